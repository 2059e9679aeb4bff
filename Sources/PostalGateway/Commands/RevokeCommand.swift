import ArgumentParser
import Foundation
import SwiftASN1
import Tracking
import X509

/// `postal-gateway pki revoke`: adds certificates, identities or device keys to the signed
/// revocation list; `systemctl reload postal-gateway` (SIGHUP) puts it in force.
struct RevokeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "revoke",
    abstract: "Revoke a client certificate, a whole identity or a device signing key.",
    discussion: """
      Extends the revocation list (default <data-dir>/revocations.json), numbers it one \
      higher and signs it with the CA's key. The gateway loads it at start and on SIGHUP: a \
      revoked certificate or identity is refused at its next call and its open streams end; a \
      revoked device key's signatures made at or after --at are refused (older ones, synced \
      late, still count).
      """
  )

  @Option(help: "A client certificate (PEM) to revoke by serial number (repeatable).")
  var cert: [String] = []
  @Option(help: "A SPIFFE ID to revoke with every certificate naming it (repeatable).")
  var spiffeId: [String] = []
  @Option(help: "A device signing key id (keys register prints it) to revoke (repeatable).")
  var deviceKey: [String] = []
  @Option(help: "Why, for the record (no personal data).") var reason: String
  @Option(help: "From when (ISO 8601, e.g. 2026-12-03T08:00:00+07:00). Default now.")
  var at: String?
  @Option(help: "Data directory holding pki/ca.pem. Default ./postal-data.")
  var dataDir = "./postal-data"
  @Option(help: "The CA certificate (PEM). Default <data-dir>/pki/ca.pem.") var caCert: String?
  @Option(help: "The CA's private key (PEM). Default <data-dir>/pki/ca-key.pem.") var caKey: String?
  @Option(help: "The list to extend. Default <data-dir>/revocations.json.") var out: String?

  func validate() throws {
    guard !(self.cert.isEmpty && self.spiffeId.isEmpty && self.deviceKey.isEmpty) else {
      throw ValidationError("name what to revoke: --cert, --spiffe-id or --device-key")
    }
  }

  func run() throws {
    let pki = (self.dataDir as NSString).appendingPathComponent("pki")
    let read = { (path: String) throws -> String in
      guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read \(path)")
      }
      return String(decoding: data, as: UTF8.self)
    }
    let authority = try CertificateAuthority(
      credential: PEMCredential(
        certificatePEM: try read(self.caCert ?? (pki as NSString).appendingPathComponent("ca.pem")),
        privateKeyPEM: try read(
          self.caKey ?? (pki as NSString).appendingPathComponent("ca-key.pem")
        )
      )
    )
    let now = SystemWallClock().now()
    let revokedAt = try self.at.map { try parseISOTime($0, option: "--at") } ?? now
    let path = self.out ?? (self.dataDir as NSString).appendingPathComponent("revocations.json")
    var list = try RevocationListFile.read(path: path)?.list ?? RevocationListFile.List()
    list.sequence += 1
    list.issuedAt = now.description
    for file in self.cert {
      let certificate = try Certificate(pemEncoded: try read(file))
      let identity = try? certificate.extensions.subjectAlternativeNames?.compactMap { name in
        if case .uniformResourceIdentifier(let uri) = name { return uri }
        return nil
      }.first
      list.certificates.append(
        .init(
          serial: RevocationListFile.serial(of: certificate),
          spiffeId: identity ?? nil,
          revokedAt: revokedAt.description,
          reason: self.reason
        )
      )
    }
    for id in self.spiffeId {
      list.identities.append(
        .init(spiffeId: id, revokedAt: revokedAt.description, reason: self.reason)
      )
    }
    for key in self.deviceKey {
      list.deviceKeys.append(
        .init(keyId: key, revokedAt: revokedAt.description, reason: self.reason)
      )
    }
    let data = try RevocationListFile.encode(
      try RevocationListFile.sign(list, with: authority.privateKey)
    )
    try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    print(
      "revocation list \(path): sequence \(list.sequence), \(list.certificates.count) certificates, "
        + "\(list.identities.count) identities, \(list.deviceKeys.count) device keys"
    )
    print("put it in force: systemctl reload postal-gateway (or kill -HUP the serve process)")
  }
}
