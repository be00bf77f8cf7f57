/** What every `--help` ends with: how to name a revision, a time and a path. */
export const TERMS_HELP = `
Terms:
  REV    a commit id or a prefix of 4+ hex digits, a tag (xsgit tags), HEAD or main (the
         live store's last commit), history/<tier> (a retention tier, e.g. history/1h),
         tx/<conn>-<txid> (where an open transaction started: xsgit branches), REV~N (N
         commits before REV on main's first-parent line), or @TIME (the last commit at or
         before TIME). Only what the history retains can be named (xsgit stats).
  TIME   an ISO 8601 date (2026-11-30T01:00:00Z; without a zone it is local time), Unix
         seconds (1764464400), or an age: 90s, 5m, 2h, 3d.
  PATH   a xenstore path; one without its leading / is relative to dom0's home
         /local/domain/0, as for xenstore-read.
  --json one JSON value on stdout; a commit is always named by "commit" (its full id),
         a node's state by "value" (escaped as xenstore-read prints it), "base64" (the
         exact bytes) and "perms" (as xenstore-ls -p prints them). Errors too are JSON on
         stdout: {"error": {"code": "ENOENT", "message": "..."}}, with a non-zero exit.
`;
