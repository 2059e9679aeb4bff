import Crypto

/// A co-signed handover: both parties' Ed25519 signatures over the handover statement.
public struct HandoverRecord: Hashable, Sendable {
  /// Who gave (a SPIFFE ID).
  public var giver: String
  /// Who took (a SPIFFE ID).
  public var receiver: String
  /// SHA-256 of the statement both signed, hex.
  public var statementSHA256: String
  /// The giver's key.
  public var giverKeyID: String
  /// The giver's signature over the statement.
  public var giverSignature: [UInt8]
  /// The receiver's key.
  public var receiverKeyID: String
  /// The receiver's signature over the statement.
  public var receiverSignature: [UInt8]

  /// Creates a record.
  public init(
    giver: String,
    receiver: String,
    statementSHA256: String,
    giverKeyID: String,
    giverSignature: [UInt8],
    receiverKeyID: String,
    receiverSignature: [UInt8]
  ) {
    self.giver = giver
    self.receiver = receiver
    self.statementSHA256 = statementSHA256
    self.giverKeyID = giverKeyID
    self.giverSignature = giverSignature
    self.receiverKeyID = receiverKeyID
    self.receiverSignature = receiverSignature
  }
}

/// A signature as a party sends it: which of its registered keys, and the signature bytes.
public struct PartySignature: Hashable, Sendable {
  /// The key id returned at registration.
  public var keyID: String
  /// 64 bytes of Ed25519 signature.
  public var signature: [UInt8]

  /// Creates a signature.
  public init(keyID: String, signature: [UInt8]) {
    self.keyID = keyID
    self.signature = signature
  }
}

/// A public key a staff device or agency system registered, bound to its certificate identity.
public struct SigningKey: Hashable, Sendable {
  /// `SHA-256(public key)`, first 8 bytes, hex.
  public var keyID: String
  /// The SPIFFE ID it belongs to.
  public var owner: String
  /// The Ed25519 public key (32 bytes).
  public var publicKey: [UInt8]

  /// A key with its id computed.
  /// - Throws: ``InvalidValue`` unless it is a 32-byte Ed25519 public key.
  public init(owner: String, publicKey: [UInt8]) throws {
    guard publicKey.count == 32,
      (try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)) != nil
    else {
      throw InvalidValue("must be a 32-byte Ed25519 public key")
    }
    self.owner = owner
    self.publicKey = publicKey
    self.keyID = CustodyEntry.hex(SHA256.hash(data: publicKey).prefix(8))
  }

  /// Whether `signature` is this key's over `message`.
  public func verifies(_ signature: [UInt8], of message: [UInt8]) -> Bool {
    guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: self.publicKey) else {
      return false
    }
    return key.isValidSignature(signature, for: message)
  }
}

/// The statement the giver and the receiver of a handover sign (Circular 17/2017's co-signed
/// handover record, made verifiable):
///
/// ```
/// postalgateway.handover.v1
/// tracking <S10 number>
/// kind <HANDED_TO_AGENCY | RESULT_COLLECTED | RETURN_COLLECTED>
/// giver <SPIFFE ID>
/// receiver <SPIFFE ID>
/// occurred <RFC 3339 UTC, microseconds>
/// seal <seal id or ->
/// scans <sorted SHA-256 hex of the dossier's scans, comma-separated, or ->
/// ```
public enum HandoverStatement {
  /// The event kinds that are handovers between the postal service and an agency.
  public static let kinds: Set<EventKind> = [.handedToAgency, .resultCollected, .returnCollected]

  /// The statement's bytes.
  public static func bytes(
    trackingNumber: TrackingNumber,
    kind: EventKind,
    giver: String,
    receiver: String,
    occurredAt: Timestamp,
    sealID: String?,
    scans: [String]
  ) -> [UInt8] {
    let lines = [
      "postalgateway.handover.v1",
      "tracking \(trackingNumber.rawValue)",
      "kind \(kind.rawValue)",
      "giver \(giver)",
      "receiver \(receiver)",
      "occurred \(occurredAt.description)",
      "seal \(sealID ?? "-")",
      "scans \(scans.isEmpty ? "-" : scans.sorted().joined(separator: ","))",
    ]
    return Array((lines.joined(separator: "\n") + "\n").utf8)
  }

  /// The statement for a handover of this shipment in its current state: the seal on the
  /// envelope (for a result collection, the result's seal) and the dossier's scans.
  public static func bytes(
    for shipment: Shipment,
    kind: EventKind,
    giver: String,
    receiver: String,
    occurredAt: Timestamp,
    resultSeal: String? = nil
  ) -> [UInt8] {
    Self.bytes(
      trackingNumber: shipment.trackingNumber,
      kind: kind,
      giver: giver,
      receiver: receiver,
      occurredAt: occurredAt,
      sealID: kind.isCollectionAtAgency ? resultSeal : shipment.currentSealID,
      scans: kind == .handedToAgency ? shipment.scans.map(\.sha256) : []
    )
  }
}
