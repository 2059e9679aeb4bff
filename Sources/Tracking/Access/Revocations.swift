import Synchronization

/// What the partners' CA has revoked: client certificates (by serial number), whole identities
/// (by SPIFFE ID: every certificate naming it), and device signing keys (by key id, from a time).
public struct Revocations: Hashable, Sendable {
  /// One revocation.
  public struct Entry: Hashable, Sendable {
    /// From when it holds. A device key signs nothing valid from this time on.
    public var revokedAt: Timestamp
    /// Why (free text for the operator: "handheld lost at 250000").
    public var reason: String

    /// Creates an entry.
    public init(revokedAt: Timestamp, reason: String) {
      self.revokedAt = revokedAt
      self.reason = reason
    }
  }

  /// The list's number: a list replaces the one in force only if its number is higher.
  public var sequence: Int64
  /// Certificate serial numbers, lower-case hex without leading zero bytes stripped.
  public var certificates: [String: Entry]
  /// SPIFFE IDs.
  public var identities: [String: Entry]
  /// Device signing key ids.
  public var deviceKeys: [String: Entry]

  /// Creates a list.
  public init(
    sequence: Int64 = 0,
    certificates: [String: Entry] = [:],
    identities: [String: Entry] = [:],
    deviceKeys: [String: Entry] = [:]
  ) {
    self.sequence = sequence
    self.certificates = certificates
    self.identities = identities
    self.deviceKeys = deviceKeys
  }

  /// The empty list (nothing revoked).
  public static let none = Revocations()

  /// Whether a caller presenting a certificate with this serial and identity is refused.
  public func refuses(serial: String?, identity: String?) -> Bool {
    if let serial, self.certificates[serial] != nil { return true }
    if let identity, self.identities[identity] != nil { return true }
    return false
  }

  /// Whether a signature made with the key at `signedAt` is refused: the key is revoked and the
  /// signature is not older than the revocation.
  public func refusesSignature(keyID: String, signedAt: Timestamp) -> Bool {
    guard let entry = self.deviceKeys[keyID] else { return false }
    return !(signedAt < entry.revokedAt)
  }
}

/// The revocation list in force, replaced on reload; callers can wait until a caller of theirs
/// is revoked (to close its open streams).
public final class RevocationHolder: Sendable {
  private let list: Mutex<Revocations>
  private let changes = ChangeSignal()

  /// Creates a holder.
  public init(_ revocations: Revocations = .none) {
    self.list = Mutex(revocations)
  }

  /// The list in force.
  public var current: Revocations { self.list.withLock { $0 } }

  /// Puts a list in force and wakes every waiter to look at it.
  public func replace(with revocations: Revocations) {
    self.list.withLock { $0 = revocations }
    self.changes.bump()
  }

  /// Returns once a list in force refuses this caller (at once if the current one does), or
  /// when the task is cancelled.
  public func waitUntilRefused(serial: String?, identity: String?) async {
    while !Task.isCancelled {
      // The version first: a list put in force after it makes the wait return at once.
      let version = self.changes.version
      if self.current.refuses(serial: serial, identity: identity) { return }
      await self.changes.wait(from: version)
    }
  }
}
