// Package conf holds Patchbay's own settings: the YAML file, the PATCHBAY_*
// environment variables that override it, the defaults under both, and the
// validation that reports every bad setting at once.
//
// Precedence is environment over file over defaults. Every key of the file
// has a variable named PATCHBAY_ followed by its dotted path in upper case
// with dots as underscores: sip.listen is PATCHBAY_SIP_LISTEN.
//
// conf is the only package that reads configuration files or the process
// environment; the others receive a *Config (or the part of it they need).
package conf
