import Dispatch
import NIOCore
import Primitives

/// A user the load loop can act as: a bearer token and some of the user's entry ids.
struct SeededUser: Sendable, Equatable {
    /// The bearer token.
    var token: String?
    /// Ids of the user's entries, for the `get` scenario.
    var entryIDs: [String]

    /// Creates a user.
    init(token: String?, entryIDs: [String]) {
        self.token = token
        self.entryIDs = entryIDs
    }
}

/// Request bytes for every user and scenario, encoded once before the load starts.
///
/// Only `create` bodies vary per request; they are written into a reused buffer from pre-encoded parts.
struct RequestCatalog: Sendable {
    /// The pre-encoded requests of one user.
    struct UserRequests: Sendable {
        /// Complete requests indexed by `Scenario.ordinal`, empty for scenarios built per request.
        var fixed: [ByteBuffer]
        /// `POST /v1/entries` head without `Content-Length`.
        var createHead: ByteBuffer
        /// One `GET /v1/entries/{id}` per known entry.
        var gets: [ByteBuffer]
        /// The token, for `put`'s head, whose path varies.
        var token: String?
    }

    /// At most this many entries per user are kept for the `get` scenario.
    static let maximumGetsPerUser = 100

    let users: [UserRequests]
    private let encoder: HTTPRequestEncoder
    /// `put` picks one of this many client ids per user.
    static let clientIDsPerUser = 5_000
    /// The users that have at least one entry for `get`.
    let usersWithEntries: [Int]
    /// The dates `create` picks from: the last 365 days.
    private let dates: [ByteBuffer]

    init(users seeded: [SeededUser], target: LoadTestTarget, rawPath: String?) {
        let encoder = HTTPRequestEncoder(target: target)
        let users = seeded.map { user in
            var fixed = [ByteBuffer](repeating: ByteBuffer(), count: Scenario.allCases.count)
            fixed[Scenario.list.ordinal] = encoder.request(method: "GET", path: "/v1/entries?limit=30", token: user.token)
            fixed[Scenario.stats.ordinal] = encoder.request(method: "GET", path: "/v1/stats", token: user.token)
            fixed[Scenario.trend.ordinal] = encoder.request(method: "GET", path: "/v1/trend", token: user.token)
            fixed[Scenario.me.ordinal] = encoder.request(method: "GET", path: "/v1/me", token: user.token)
            fixed[Scenario.ema.ordinal] = encoder.request(method: "GET", path: "/v1/trend?method=ema", token: user.token)
            fixed[Scenario.progress.ordinal] = encoder.request(method: "GET", path: "/v1/goal/progress", token: user.token)
            fixed[Scenario.changes.ordinal] = encoder.request(method: "GET", path: "/v1/changes?limit=30", token: user.token)
            if let rawPath {
                fixed[Scenario.raw.ordinal] = encoder.request(method: "GET", path: rawPath, token: user.token)
            }
            return UserRequests(
                fixed: fixed,
                createHead: encoder.head(method: "POST", path: "/v1/entries", token: user.token, contentType: "application/json"),
                gets: user.entryIDs.prefix(Self.maximumGetsPerUser).map {
                    encoder.request(method: "GET", path: "/v1/entries/\($0)", token: user.token)
                },
                token: user.token
            )
        }
        self.encoder = encoder
        self.users = users
        usersWithEntries = users.indices.filter { !users[$0].gets.isEmpty }
        let today = CalendarDate.today()
        dates = (0..<365).map { ByteBuffer(string: today.adding(days: -$0).description) }
    }

    /// A request of `scenario` for a random user: pre-encoded, or written into `scratch` for `create`.
    ///
    /// `get` needs a user with entries; the runner checks that before the load starts.
    func request(_ scenario: Scenario, random: inout FastRandom, scratch: inout ByteBuffer) -> ByteBuffer {
        switch scenario {
        case .get:
            let gets = users[usersWithEntries[random.next(below: usersWithEntries.count)]].gets
            return gets[random.next(below: gets.count)]
        case .create:
            let user = users[random.next(below: users.count)]
            let weight = weightText(hundredths: 4_000 + random.next(below: 11_001))
            let date = dates[random.next(below: dates.count)]
            // {"weight":W,"unit":"kg","recorded_on":"YYYY-MM-DD"}
            let bodyLength = 10 + weight.utf8.count + 28 + date.readableBytes + 2
            scratch.clear()
            scratch.writeImmutableBuffer(user.createHead)
            scratch.writeStaticString("Content-Length: ")
            scratch.writeString(String(bodyLength))
            scratch.writeStaticString("\r\n\r\n{\"weight\":")
            scratch.writeString(weight)
            scratch.writeStaticString(",\"unit\":\"kg\",\"recorded_on\":\"")
            scratch.writeImmutableBuffer(date)
            scratch.writeStaticString("\"}")
            return scratch
        case .put:
            let user = users[random.next(below: users.count)]
            let weight = weightText(hundredths: 4_000 + random.next(below: 11_001))
            let date = dates[random.next(below: dates.count)]
            // A version that grows with time: a later PUT of the same id replaces the earlier one.
            let version = String(DispatchTime.now().uptimeNanoseconds)
            let path = "/v1/entries/by-client-id/lt-\(random.next(below: Self.clientIDsPerUser))"
            // {"weight":W,"unit":"kg","recorded_on":"YYYY-MM-DD","client_version":V}
            let bodyLength = 10 + weight.utf8.count + 28 + date.readableBytes + 19 + version.utf8.count + 1
            scratch.clear()
            scratch.writeImmutableBuffer(
                encoder.head(method: "PUT", path: path, token: user.token, contentType: "application/json"))
            scratch.writeStaticString("Content-Length: ")
            scratch.writeString(String(bodyLength))
            scratch.writeStaticString("\r\n\r\n{\"weight\":")
            scratch.writeString(weight)
            scratch.writeStaticString(",\"unit\":\"kg\",\"recorded_on\":\"")
            scratch.writeImmutableBuffer(date)
            scratch.writeStaticString("\",\"client_version\":")
            scratch.writeString(version)
            scratch.writeStaticString("}")
            return scratch
        default:
            return users[random.next(below: users.count)].fixed[scenario.ordinal]
        }
    }
}

extension Scenario {
    /// A dense index for arrays keyed by scenario.
    var ordinal: Int {
        switch self {
        case .list: 0
        case .create: 1
        case .stats: 2
        case .get: 3
        case .trend: 4
        case .me: 5
        case .raw: 6
        case .ema: 7
        case .progress: 8
        case .changes: 9
        case .put: 10
        }
    }
}
