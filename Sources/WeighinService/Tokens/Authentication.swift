import Foundation

/// Who made a request: the result of checking a bearer token.
public struct Authentication: Sendable, Equatable {
    /// The account.
    public let userID: UUID
    /// The account's default display unit.
    public let weightUnit: WeightUnit
    /// SHA-256 of the token used (to log out that token alone).
    public let tokenHash: [UInt8]
    /// What the token may do.
    public let scope: TokenScope
    /// Whether it is a personal access token (made with `POST /v1/me/tokens`) rather than a log-in token.
    public let isPersonal: Bool
    /// The WAL position the caller's reads must reflect (a write acknowledged by another instance, sent back by
    /// the client); nil: only what this instance knows of the caller's writes.
    public let readAfter: WALPosition?

    public init(
        userID: UUID, weightUnit: WeightUnit, tokenHash: [UInt8], scope: TokenScope = .write, isPersonal: Bool = false,
        readAfter: WALPosition? = nil
    ) {
        self.userID = userID
        self.weightUnit = weightUnit
        self.tokenHash = tokenHash
        self.scope = scope
        self.isPersonal = isPersonal
        self.readAfter = readAfter
    }

    /// The same caller with another display unit (the profile changed).
    func with(weightUnit: WeightUnit) -> Authentication {
        Authentication(
            userID: userID, weightUnit: weightUnit, tokenHash: tokenHash, scope: scope, isPersonal: isPersonal,
            readAfter: readAfter)
    }

    /// The same caller, whose reads must reflect `position`.
    public func with(readAfter position: WALPosition?) -> Authentication {
        Authentication(
            userID: userID, weightUnit: weightUnit, tokenHash: tokenHash, scope: scope, isPersonal: isPersonal,
            readAfter: position)
    }

    /// Whether this token may make a call that needs `requirement`.
    public func permits(_ requirement: AccessRequirement) -> Bool {
        switch requirement {
        case .read: true
        case .write: scope == .write
        case .logIn: !isPersonal
        }
    }

    /// Throws `insufficientScope` unless this token may make a call that needs `requirement`.
    public func require(_ requirement: AccessRequirement) throws(ServiceError) {
        guard permits(requirement) else { throw ServiceError.insufficientScope(requirement) }
    }
}

/// A freshly issued bearer token: shown to the client once, never stored in clear.
public struct IssuedToken: Sendable {
    public let token: String
    public let expiresAt: Date
    public let user: User
}
