package bot

import "log/slog"

// Secret is a credential: a bot or app-level token or the signing secret.
// It prints and logs as "[redacted]", so that it cannot reach a log by
// accident; Reveal returns the value for the one place that needs it.
type Secret string

const redacted = "[redacted]"

// LogValue hides the secret from slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// String hides the secret from fmt's %s and %v.
func (s Secret) String() string { return redacted }

// GoString hides the secret from fmt's %#v.
func (s Secret) GoString() string { return redacted }

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }
