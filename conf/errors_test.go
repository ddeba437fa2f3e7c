package conf

import (
	"errors"
	"testing"
)

func TestFieldErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *FieldError
		want string
		kind error
	}{
		{"invalid", invalid("media.ports", "20000-10000", "start must be below end"),
			`conf: media.ports: "20000-10000": start must be below end`, ErrInvalid},
		{"with line", &FieldError{Key: "sip.listen", Value: "x", Reason: "bad", Line: 4,
			Kind: ErrInvalid}, `conf: sip.listen: "x": bad (line 4)`, ErrInvalid},
		{"from env", &FieldError{Key: "media.ports", Env: "PATCHBAY_MEDIA_PORTS", Value: "1-0",
			Reason: "bad", Kind: ErrInvalid},
			`conf: media.ports (PATCHBAY_MEDIA_PORTS): "1-0": bad`,
			ErrInvalid},
		{"hidden", invalid("admin_token", hiddenValue, "too short"),
			`conf: admin_token: (hidden): too short`, ErrInvalid},
		{"unknown", &FieldError{Key: "colour", Reason: "unknown key", Line: 9,
			Kind: ErrUnknownKey}, `conf: colour: unknown key (line 9)`, ErrUnknownKey},
		{"duplicate", &FieldError{Key: "a.b", Reason: "set twice", Kind: ErrDuplicateKey},
			`conf: a.b: set twice`, ErrDuplicateKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eq(t, tt.err.Error(), tt.want)
			if !errors.Is(tt.err, tt.kind) {
				t.Errorf("errors.Is(%v, %v) = false", tt.err, tt.kind)
			}
		})
	}
}
