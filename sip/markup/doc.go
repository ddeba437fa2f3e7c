// Package markup parses the TwiML-compatible documents a tenant application
// answers with into typed, validated verbs.
//
// Parse reads a <Response> document and returns its verbs in order. Every
// attribute that Patchbay acts on is checked here, so that the call control
// only ever sees values in range: a document with an unknown verb, a verb in
// a place it may not stand, or a known attribute with a bad value is refused
// as a whole with an *Error naming the verb, the attribute and a CPaaS-style
// error code, and the caller treats it as an application error (the fallback
// URL is asked). Attributes Patchbay does not know are ignored and listed in
// Response.Ignored, because applications written for other platforms carry
// them.
//
// The parser is bounded: the document size, the element nesting depth and
// the element count are capped (Limits), document type declarations are
// refused and no entity other than the five predefined XML entities and
// character references is expanded.
//
// Say and speech input (Gather input="speech") need a speech engine.
// Patchbay ships none, so unless Limits.SpeechEngine is set they are refused
// with CodeSpeechUnsupported.
package markup
