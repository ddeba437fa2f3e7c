package markup

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/markup")

const testdataDir = "../../testdata/markup"

// render prints a parse result in a stable, readable form for golden files.
func render(resp *Response, err error) string {
	var b strings.Builder
	if err != nil {
		var me *Error
		if !errors.As(err, &me) {
			return "untyped error: " + err.Error() + "\n"
		}
		fmt.Fprintf(&b, "error code=%d verb=%q attr=%q\n%s\n", me.Code, me.Verb, me.Attr, err)

		return b.String()
	}
	for _, v := range resp.Verbs {
		renderVerb(&b, v, "")
	}
	for _, ig := range resp.Ignored {
		fmt.Fprintf(&b, "ignored %s\n", ig)
	}

	return b.String()
}

func renderVerb(b *strings.Builder, v Verb, indent string) {
	switch t := v.(type) {
	case *Dial:
		nouns := t.Nouns
		c := *t
		c.Nouns = nil
		fmt.Fprintf(b, "%s%s %+v\n", indent, v.VerbName(), c)
		for _, n := range nouns {
			fmt.Fprintf(b, "%s  noun %+v\n", indent, n)
		}
	case *Gather:
		nested := t.Nested
		c := *t
		c.Nested = nil
		fmt.Fprintf(b, "%s%s %+v\n", indent, v.VerbName(), c)
		for _, n := range nested {
			renderVerb(b, n, indent+"  ")
		}
	default:
		fmt.Fprintf(b, "%s%s %+v\n", indent, v.VerbName(), v)
	}
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testdataDir, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".xml")
		t.Run(name, func(t *testing.T) {
			doc, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			resp, perr := Parse(doc, Limits{})
			got := render(resp, perr)
			if strings.HasPrefix(name, "err_") != (perr != nil) {
				t.Errorf("error = %v; files named err_* must fail, others must parse", perr)
			}
			golden := strings.TrimSuffix(file, ".xml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	resp, err := Parse([]byte(`<Response><Dial><Client>a</Client></Dial><Gather/>`+
		`<Record/><Pause/><Play>/x.wav</Play><Redirect>/n</Redirect></Response>`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	d := resp.Verbs[0].(*Dial)
	if d.Timeout != 30*time.Second || d.TimeLimit != 4*time.Hour || d.Method != MethodPOST ||
		d.Record != RecordNone || !d.AnswerOnBridge || d.HangupOnStar {
		t.Errorf("dial defaults: %+v", d)
	}
	g := resp.Verbs[1].(*Gather)
	if g.Timeout != 5*time.Second || g.FinishOnKey != "#" || g.NumDigits != 0 || g.Speech {
		t.Errorf("gather defaults: %+v", g)
	}
	r := resp.Verbs[2].(*Record)
	if r.Timeout != 5*time.Second || r.MaxLength != time.Hour || !r.PlayBeep || !r.Trim ||
		r.FinishOnKey != "1234567890*#" {
		t.Errorf("record defaults: %+v", r)
	}
	if p := resp.Verbs[3].(*Pause); p.Length != time.Second {
		t.Errorf("pause default: %v", p.Length)
	}
	if p := resp.Verbs[4].(*Play); p.Loop != 1 {
		t.Errorf("play default loop: %d", p.Loop)
	}
	if r := resp.Verbs[5].(*Redirect); r.Method != MethodPOST || r.URL != "/n" {
		t.Errorf("redirect: %+v", r)
	}
}

func TestLimits(t *testing.T) {
	deep := strings.Repeat("<Gather>", 3) + strings.Repeat("</Gather>", 3)
	many := "<Response>" + strings.Repeat("<Hangup/>", 20) + "</Response>"
	tests := []struct {
		name string
		doc  string
		lim  Limits
		code int
		err  error
	}{
		{"size", "<Response/>" + strings.Repeat(" ", 100), Limits{MaxBytes: 100},
			CodeTooLarge, ErrTooLarge},
		{"depth", "<Response>" + deep + "</Response>", Limits{MaxDepth: 3},
			CodeDocumentParse, ErrDocument},
		{"elements", many, Limits{MaxElements: 10}, CodeDocumentParse, ErrDocument},
		{"empty", "", Limits{}, CodeDocumentParse, ErrDocument},
		{"text only", "just text", Limits{}, CodeDocumentParse, ErrDocument},
		{"latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><Response/>`, Limits{},
			CodeDocumentParse, ErrDocument},
		{"long text", "<Response><Play>/" + strings.Repeat("a", 5000) + "</Play></Response>",
			Limits{}, CodeDocumentParse, ErrDocument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), tt.lim)
			var me *Error
			if !errors.As(err, &me) || me.Code != tt.code || !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want code %d wrapping %v", err, tt.code, tt.err)
			}
		})
	}
}

func TestSpeechEngine(t *testing.T) {
	doc := []byte(`<Response><Gather input="speech"><Say loop="2">Hi</Say></Gather>` +
		`<Say voice="alice" language="en-US">Bye</Say></Response>`)
	if _, err := Parse(doc, Limits{}); !errors.Is(err, ErrSpeechUnsupported) {
		t.Fatalf("without engine: err = %v", err)
	}
	resp, err := Parse(doc, Limits{SpeechEngine: true})
	if err != nil {
		t.Fatal(err)
	}
	g := resp.Verbs[0].(*Gather)
	if !g.Speech || g.Nested[0].(*Say).Loop != 2 {
		t.Errorf("gather: %+v", g)
	}
	if s := resp.Verbs[1].(*Say); s.Text != "Bye" || s.Voice != "alice" || s.Language != "en-US" {
		t.Errorf("say: %+v", s)
	}
}

func TestErrorNeverLeaksPassword(t *testing.T) {
	long := strings.Repeat("p", 200)
	_, err := Parse([]byte(`<Response><Dial><Sip password="`+long+`">sip:a@b</Sip>`+
		`</Dial></Response>`), Limits{})
	if err == nil || strings.Contains(err.Error(), "ppp") {
		t.Fatalf("err = %v", err)
	}
}

func TestRejectSIPStatus(t *testing.T) {
	tests := []struct {
		reason string
		want   int
	}{{"busy", 486}, {"rejected", 603}, {"", 603}}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			if got := (&Reject{Reason: tt.reason}).SIPStatus(); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}
