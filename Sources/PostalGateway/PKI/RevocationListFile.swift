import Crypto
import Foundation
import SwiftASN1
import Tracking
import X509

/// The revocation list: a deny-list of certificate serials, SPIFFE IDs and device signing keys,
/// signed by the partners' CA (ECDSA P-256 with SHA-256, over the list's canonical JSON: sorted
/// keys, no escaped slashes), and numbered so that an older list never replaces a newer one.
///
/// ```json
/// { "list": { "format": "postal-gateway-revocations/1", "sequence": 2,
///             "issuedAt": "2026-12-03T06:00:00.000000Z",
///             "certificates": [ { "serial": "5f3a…", "spiffeId": "spiffe://…/staff/250000/clerk-01",
///                                 "revokedAt": "…", "reason": "handheld lost" } ],
///             "identities": [], "deviceKeys": [ { "keyId": "…", "revokedAt": "…", "reason": "…" } ] },
///   "signature": "<base64 DER>" }
/// ```
enum RevocationListFile {
  static let format = "postal-gateway-revocations/1"

  struct Entry: Codable, Equatable, Sendable {
    /// Certificates: the serial number (lower-case hex).
    var serial: String?
    /// Certificates (for the record) and identities: the SPIFFE ID.
    var spiffeId: String?
    /// Device keys: the key id.
    var keyId: String?
    var revokedAt: String
    var reason: String
  }

  struct List: Codable, Equatable, Sendable {
    var format = RevocationListFile.format
    var sequence: Int64 = 0
    var issuedAt: String = ""
    var certificates: [Entry] = []
    var identities: [Entry] = []
    var deviceKeys: [Entry] = []
  }

  struct Signed: Codable, Sendable {
    var list: List
    var signature: String
  }

  /// The bytes the signature covers.
  static func canonical(_ list: List) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(list)
  }

  /// Signs a list with the CA's key.
  static func sign(_ list: List, with key: P256.Signing.PrivateKey) throws -> Signed {
    let signature = try key.signature(for: Self.canonical(list))
    return Signed(list: list, signature: signature.derRepresentation.base64EncodedString())
  }

  /// The file's text.
  static func encode(_ signed: Signed) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(signed)
  }

  /// Reads a file without checking its signature (to extend it).
  static func read(path: String) throws -> Signed? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    do {
      return try JSONDecoder().decode(Signed.self, from: data)
    } catch {
      throw ConfigurationError("revocation list \(path): \(FileProblem.describe(error))")
    }
  }

  /// Reads a list and checks that one of the CA certificates signed it. A missing file is the
  /// empty list.
  /// - Parameters:
  ///   - path: The file.
  ///   - caPEM: The partners' CA certificates (the client CA bundle).
  /// - Throws: ``ConfigurationError`` naming the file and what is wrong.
  static func load(path: String, caPEM: String) throws -> Revocations {
    guard let signed = try Self.read(path: path) else { return .none }
    let problem = { (text: String) in ConfigurationError("revocation list \(path): \(text)") }
    guard signed.list.format == Self.format else {
      throw problem("format must be \(Self.format)")
    }
    guard let der = Data(base64Encoded: signed.signature),
      let signature = try? P256.Signing.ECDSASignature(derRepresentation: der)
    else { throw problem("signature is not a base64 DER ECDSA signature") }
    let message = try Self.canonical(signed.list)
    let keys = TLSMaterial.pemBlocks(caPEM).compactMap { pem -> P256.Signing.PublicKey? in
      guard let certificate = try? Certificate(pemEncoded: pem) else { return nil }
      return P256.Signing.PublicKey(certificate.publicKey)
    }
    guard keys.contains(where: { $0.isValidSignature(signature, for: message) }) else {
      throw problem("the signature is not the partners' CA's")
    }
    func time(_ text: String, _ field: String) throws -> Timestamp {
      do {
        return try parseISOTime(text, option: field)
      } catch {
        throw problem("\(field) must be an RFC 3339 time, not \(text)")
      }
    }
    func entries(
      _ list: [Entry],
      _ name: String,
      key: KeyPath<Entry, String?>,
      field: String,
      normalize: (String) -> String = { $0 }
    ) throws -> [String: Revocations.Entry] {
      var entries: [String: Revocations.Entry] = [:]
      for (index, entry) in list.enumerated() {
        guard let id = entry[keyPath: key].map(normalize), !id.isEmpty else {
          throw problem("\(name)[\(index)].\(field) is missing")
        }
        entries[id] = .init(
          revokedAt: try time(entry.revokedAt, "\(name)[\(index)].revokedAt"),
          reason: entry.reason
        )
      }
      return entries
    }
    let revocations = Revocations(
      sequence: signed.list.sequence,
      certificates: try entries(
        signed.list.certificates,
        "certificates",
        key: \.serial,
        field: "serial",
        normalize: { $0.lowercased() }
      ),
      identities: try entries(
        signed.list.identities,
        "identities",
        key: \.spiffeId,
        field: "spiffeId"
      ),
      deviceKeys: try entries(signed.list.deviceKeys, "deviceKeys", key: \.keyId, field: "keyId")
    )
    return revocations
  }

  /// The serial of a PEM certificate as the list names it.
  static func serial(ofPEM pem: String) throws -> String {
    Self.serial(of: try Certificate(pemEncoded: pem))
  }

  /// A certificate's serial as the list names it.
  static func serial(of certificate: Certificate) -> String {
    hexString(certificate.serialNumber.bytes)
  }
}
