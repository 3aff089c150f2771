/** Why a request ended without a video; each has its own message. */
export type FailureReason =
  | 'rejected'
  | 'bad-image'
  | 'generation-failed'
  | 'nsfw'
  | 'deadline'
  | 'cancelled'
  | 'blocked'
  | 'queue-timeout'
  | 'busy'
  | 'line-timeout'
  | 'unconfirmed'
  | 'internal';
