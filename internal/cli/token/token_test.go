package token

import (
	"errors"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/iostreams"
)

func TestHash(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		// sha256("abc"), FIPS 180-2 appendix B.1.
		{in: "abc\n", want: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"},
		{in: "abc", want: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"},
		{in: "abc\r\nsecond line\n", want: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"},
		{in: "", wantErr: "stdin holds no token"},
		{in: "\n", wantErr: "stdin holds no token"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ios, in, out, _ := iostreams.Test()
			in.WriteString(tt.in)
			cmd := NewCmdToken(&cmdutil.Factory{IOStreams: ios})
			cmd.SetArgs([]string{"hash"})
			cmd.SetOut(out)
			cmd.SetErr(out)
			err := cmd.Execute()
			if tt.wantErr != "" {
				var fe *cmdutil.FlagError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a flag error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || out.String() != tt.want {
				t.Errorf("out %q, err %v; want %q", out.String(), err, tt.want)
			}
		})
	}
	// A token is never an argument.
	ios, _, _, _ := iostreams.Test()
	cmd := NewCmdToken(&cmdutil.Factory{IOStreams: ios})
	cmd.SetArgs([]string{"hash", "s3cret"})
	if err := cmd.Execute(); err == nil {
		t.Error("token hash accepted the token as an argument")
	}
}
