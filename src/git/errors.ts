/**
 * Errors raised by src/git. Each carries a stable `code`, so callers (CLI, daemon) can tell
 * them apart without matching message text.
 */
export class GitError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

/** An object id, ref or revision that does not exist in the repository. */
export class NotFoundError extends GitError {
  constructor(what: string) {
    super('ENOTFOUND', `not found: ${what}`);
    this.name = 'NotFoundError';
  }
}

/** An object or file whose bytes do not follow the git format we expect. */
export class InvalidObjectError extends GitError {
  constructor(what: string) {
    super('EINVALIDOBJECT', what);
    this.name = 'InvalidObjectError';
  }
}

/**
 * The walk reached a commit that was imported from a repository (so only its id is known, not
 * its bytes), and the export target does not hold it: the target is not the repository that
 * commit came from.
 */
export class MissingObjectError extends GitError {
  constructor(id: string) {
    super('EMISSINGOBJECT', `commit ${id} was imported from a repository and is not in the export target`);
    this.name = 'MissingObjectError';
  }
}

/** A ref name git would refuse. */
export class InvalidRefError extends GitError {
  constructor(name: string) {
    super('EINVALIDREF', `invalid ref name: ${JSON.stringify(name)}`);
    this.name = 'InvalidRefError';
  }
}
