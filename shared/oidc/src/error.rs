//! Why a sign-in failed: the ID token's refusal reasons and the provider's failures.

/// Why an ID token was refused. The text is safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    #[error("the ID token is malformed")]
    Malformed,
    #[error("the ID token must be signed with RS256 or ES256")]
    UnsupportedAlgorithm,
    #[error("the ID token is signed by a key the provider does not publish")]
    UnknownKey,
    #[error("the ID token's signature is invalid")]
    BadSignature,
    #[error("the ID token was issued by another issuer")]
    WrongIssuer,
    #[error("the ID token was issued for another client")]
    WrongAudience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token's nonce does not match this sign-in")]
    NonceMismatch,
    #[error("the email address is not verified by the provider")]
    EmailNotVerified,
    #[error("the ID token lacks the {0} claim")]
    MissingClaim(&'static str),
}

/// Everything that can go wrong talking to the provider.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider is unreachable, failed, or answered something unusable.
    #[error("the identity provider failed: {0}")]
    Provider(String),
    /// The provider refused to exchange the authorization code (an OAuth error such as
    /// `invalid_grant`): the client's fault, not the provider's.
    #[error("the identity provider refused the authorization code ({0})")]
    CodeRejected(String),
    /// The ID token does not prove who the user is.
    #[error(transparent)]
    InvalidIdToken(#[from] IdTokenError),
    /// Our configuration is unusable (e.g. a redirect URI that is not a URL).
    #[error("OpenID Connect configuration: {0}")]
    Config(String),
}
