package reports

import _ "embed"

// EChartsPath is where the ECharts script is written, relative to the
// output folder; every page loads it from there.
const EChartsPath = "assets/echarts.min.js"

// echartsJS is Apache ECharts 5.6.0 (dist/echarts.min.js of the npm
// package); see assets/README.md for how it was obtained and checked.
//
//go:embed assets/echarts.min.js
var echartsJS []byte

// echartsSHA256 is the recorded checksum of echartsJS, checked by a test.
//
//go:embed assets/echarts.min.js.sha256
var echartsSHA256 string
