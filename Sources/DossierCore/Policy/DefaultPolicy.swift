/// The text of policies/default.toml, which `init` installs in a new vault. A test checks that
/// the two are identical; edit both together.
public enum DefaultPolicy {
    public static let text = #"""
# Dossier sharing policy: the starting policy that `dossier init` copies into a new vault.
# Check a file with `dossier policy check FILE`; install it with `dossier policy set FILE`.
# Every document kind must have its own table; unknown keys are errors.
#
# Keys, per kind:
#   max_window      longest access window a grant may have ("7d", "36h", "90m")
#   default_window  window used when a grant gives neither --for nor --until
#   approvals       staff sign-offs a grant needs, the granting staff member included:
#                   1 = the grantor alone; 2 = the grantor and one other (two-person rule)
#   max_recipients  most counsel one grant (and so one package) may name
#   require_vetted  counsel must be vetted until after the window ends, and not suspended
#   require_online  packages must be online (`grant --online URL`): they open only
#                   through the key-release service (`dossier serve`), which enforces the
#                   window, revocation and max_opens at every opening and logs each one
#   max_opens       most openings per counsel and grant through the key-release service;
#                   0 = no limit; `grant --max-opens N` may only lower it
version = 1

[kinds.expert-report]
max_window = "30d"
default_window = "14d"
approvals = 1
max_recipients = 5
require_vetted = true
require_online = false
max_opens = 0

# Witness testimony can expose a witness: short windows, two people, few recipients, and
# only online packages, so that revocation and the open limit hold after sending.
[kinds.witness-testimony]
max_window = "7d"
default_window = "3d"
approvals = 2
max_recipients = 2
require_vetted = true
require_online = true
max_opens = 3

[kinds.assurance-rebuttal]
max_window = "30d"
default_window = "14d"
approvals = 1
max_recipients = 5
require_vetted = true
require_online = false
max_opens = 0

[kinds.supporting-material]
max_window = "90d"
default_window = "30d"
approvals = 1
max_recipients = 10
require_vetted = false
require_online = false
max_opens = 0

"""#
}
