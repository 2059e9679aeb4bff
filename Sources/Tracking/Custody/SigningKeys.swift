/// The public keys staff devices and agency systems sign handovers with.
public protocol SigningKeyStore: Sendable {
  /// Registers a key (again: nothing changes).
  /// - Throws: ``TrackingError`` `.requestIDReused` when the key is registered to someone else.
  func register(_ key: SigningKey, now: Timestamp) async throws
  /// The key with this id, if registered.
  func signingKey(_ keyID: String) async throws -> SigningKey?
  /// The keys of an identity.
  func signingKeys(of owner: String) async throws -> [SigningKey]
}

/// The other party of a handover, and both parties' signatures over the statement.
public struct HandoverInput: Hashable, Sendable {
  /// The agency (the receiver of a dossier, the giver of a result).
  public var counterparty: Actor
  /// The giver's signature.
  public var giverSignature: PartySignature
  /// The receiver's signature.
  public var receiverSignature: PartySignature

  /// Creates an input.
  public init(
    counterparty: Actor,
    giverSignature: PartySignature,
    receiverSignature: PartySignature
  ) {
    self.counterparty = counterparty
    self.giverSignature = giverSignature
    self.receiverSignature = receiverSignature
  }
}

/// Registers keys and checks co-signed handovers.
public struct HandoverVerifier: Sendable {
  private let keys: any SigningKeyStore
  private let revocations: RevocationHolder

  /// Creates the verifier.
  /// - Parameters:
  ///   - keys: The registered keys.
  ///   - revocations: The revocation list in force: a revoked key's signatures made at or after
  ///     its revocation time are refused (older ones, synced late from an offline handheld,
  ///     still count).
  public init(keys: any SigningKeyStore, revocations: RevocationHolder = RevocationHolder()) {
    self.keys = keys
    self.revocations = revocations
  }

  /// Registers the caller's public key.
  /// - Returns: The key id.
  /// - Throws: ``TrackingError`` `.invalidArgument` (`public_key`), `.requestIDReused` when the key
  ///   belongs to another identity.
  public func register(
    publicKey: [UInt8],
    for actor: Actor,
    now: Timestamp
  ) async throws -> SigningKey {
    let key: SigningKey
    do {
      key = try SigningKey(owner: actor.id, publicKey: publicKey)
    } catch let invalid as InvalidValue {
      throw TrackingError.invalidField("public_key", invalid.reason)
    }
    try await self.keys.register(key, now: now)
    return key
  }

  /// The keys of an identity.
  public func keys(of owner: String) async throws -> [SigningKey] {
    try await self.keys.signingKeys(of: owner)
  }

  /// Who gives and who takes in a handover of this kind recorded by `actor`.
  static func parties(
    kind: EventKind,
    actor: Actor,
    counterparty: Actor
  ) -> (giver: Actor, receiver: Actor) {
    kind == .handedToAgency ? (actor, counterparty) : (counterparty, actor)
  }

  /// Looks up both parties' keys (before the write transaction); the returned closure checks the
  /// signatures against the statement built from the shipment inside it.
  /// - Throws: ``TrackingError`` `.invalidArgument` for a counterparty that is not an agency;
  ///   `.permissionDenied` for an unknown key or a key of someone else.
  func prepare(
    kind: EventKind,
    input: HandoverInput,
    actor: Actor,
    occurredAt: Timestamp
  ) async throws -> @Sendable (Shipment, String?) throws -> HandoverRecord {
    guard input.counterparty.role == .agency, let agency = input.counterparty.agency else {
      throw TrackingError.invalidField("handover.counterparty", "must be an agency's SPIFFE ID")
    }
    let (giver, receiver) = Self.parties(kind: kind, actor: actor, counterparty: input.counterparty)
    let giverKey = try await self.key(input.giverSignature.keyID, owner: giver.id, role: "giver")
    let receiverKey = try await self.key(
      input.receiverSignature.keyID,
      owner: receiver.id,
      role: "receiver"
    )
    let revocations = self.revocations.current
    for (key, role) in [(giverKey, "giver"), (receiverKey, "receiver")]
    where revocations.refusesSignature(keyID: key.keyID, signedAt: occurredAt) {
      throw TrackingError(
        code: .permissionDenied,
        message:
          "the \(role)'s key \(key.keyID) was revoked at \(revocations.deviceKeys[key.keyID]?.revokedAt.description ?? "?"); a signature from then on is refused"
      )
    }
    return { shipment, resultSeal in
      guard agency == shipment.destinationAgency else {
        throw TrackingError.invalidField(
          "handover.counterparty",
          "is not the shipment's destination agency"
        )
      }
      let statement = HandoverStatement.bytes(
        for: shipment,
        kind: kind,
        giver: giver.id,
        receiver: receiver.id,
        occurredAt: occurredAt,
        resultSeal: resultSeal
      )
      guard giverKey.verifies(input.giverSignature.signature, of: statement) else {
        throw TrackingError(
          code: .permissionDenied,
          message: "the giver's signature does not verify"
        )
      }
      guard receiverKey.verifies(input.receiverSignature.signature, of: statement) else {
        throw TrackingError(
          code: .permissionDenied,
          message: "the receiver's signature does not verify"
        )
      }
      return HandoverRecord(
        giver: giver.id,
        receiver: receiver.id,
        statementSHA256: CustodyEntry.sha256Hex(statement),
        giverKeyID: giverKey.keyID,
        giverSignature: input.giverSignature.signature,
        receiverKeyID: receiverKey.keyID,
        receiverSignature: input.receiverSignature.signature
      )
    }
  }

  private func key(_ keyID: String, owner: String, role: String) async throws -> SigningKey {
    guard let key = try await self.keys.signingKey(keyID), key.owner == owner else {
      throw TrackingError(
        code: .permissionDenied,
        message: "the \(role)'s key is not registered to the \(role)"
      )
    }
    return key
  }
}
