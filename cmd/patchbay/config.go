package main

import (
	"flag"
	"fmt"

	"gopkg.in/yaml.v3"
)

// runConfig is the config command: it loads and validates the settings as
// serve would and prints the effective result as YAML, secrets hidden. A
// bad setting fails it like serve, so it doubles as a configuration check.
func runConfig(std stdio, environ []string, args []string) error {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	file := fs.String("config", "", "YAML settings `file`")
	if err := parseFlags(fs, args, std); err != nil {
		return err
	}
	cfg, err := loadConfig(*file, environ)
	if err != nil {
		return err
	}
	enc := yaml.NewEncoder(std.out)
	enc.SetIndent(2)
	if err := enc.Encode(cfg.Redacted()); err != nil {
		return fmt.Errorf("config: encode: %w", err)
	}

	return enc.Close()
}
