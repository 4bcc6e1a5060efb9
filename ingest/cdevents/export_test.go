package cdevents

// MapKeyed makes StoreEvents map only what the new events can change
// whenever the stored rows allow it, however few events are stored.
func MapKeyed(s *Source) { s.mode = mapKeyed }

// MapFull makes StoreEvents map every stored event again, as before
// keyed mapping existed: the anchor of the equivalence test and benchmark.
func MapFull(s *Source) { s.mode = mapFull }

// KeyedMappings returns how many of the source's mappings were keyed.
func KeyedMappings(s *Source) int { return int(s.keyed.Load()) }
