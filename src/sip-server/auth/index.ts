export {
  DigestAuthenticator, challengeHeaders, DEFAULT_ALGORITHMS,
  type DigestAuthenticatorOptions, type AuthResult, type AuthFailure, type AuthSource, type ChallengeKind,
} from './authenticator.js';
export { NonceManager, type NonceManagerOptions, type NonceCheck, type NonceCountCheck } from './nonce-manager.js';
export { FailureLimiter, type FailureLimiterOptions, type BlockedSource } from './failure-limiter.js';
export { fromMatchesAuthUser, toMatchesAuthUser } from './from-matches-auth-user.js';
export { listenerAlgorithms, type ListenerAlgorithms, type ArrivalSource } from './listener-algorithms.js';
