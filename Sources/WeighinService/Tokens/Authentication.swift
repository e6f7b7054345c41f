import Foundation

/// Who made a request: the result of checking a bearer token.
public struct Authentication: Sendable, Equatable {
    /// The account.
    public let userID: UUID
    /// The account's default display unit.
    public let weightUnit: WeightUnit
    /// SHA-256 of the token used (to log out that token alone).
    public let tokenHash: [UInt8]

    public init(userID: UUID, weightUnit: WeightUnit, tokenHash: [UInt8]) {
        self.userID = userID
        self.weightUnit = weightUnit
        self.tokenHash = tokenHash
    }
}

/// A freshly issued bearer token: shown to the client once, never stored in clear.
public struct IssuedToken: Sendable {
    public let token: String
    public let expiresAt: Date
    public let user: User
}
