package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is the release, set at link time with
// -ldflags "-X main.version=1.2.3"; it is never changed at run time.
var version = "dev"

// versionLine is "patchbay <version> (<vcs revision>) <go version>"; the
// revision appears when the binary was built from a version-controlled tree.
func versionLine() string {
	line := "patchbay " + version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				line += " (" + s.Value[:12] + ")"
			}
		}
	}

	return line + " " + runtime.Version()
}

func runVersion(w io.Writer, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: version takes no arguments", errUsage)
	}
	_, err := fmt.Fprintln(w, versionLine())

	return err
}
