import Foundation
import Logging
import Persistence
import Tracking

/// The data directory's files other than the database: the verification-code secret and the
/// development PKI.
struct DataDirectory {
  let configuration: GatewayConfiguration

  /// Creates the folders if needed (owner-only for secrets).
  func prepare() throws {
    let manager = FileManager.default
    try manager.createDirectory(
      atPath: self.configuration.dataDirectory,
      withIntermediateDirectories: true
    )
    try manager.createDirectory(
      atPath: self.configuration.secretsDirectory,
      withIntermediateDirectories: true,
      attributes: [.posixPermissions: 0o700]
    )
  }

  /// The 32-byte secret behind citizens' verification codes, created on first use (mode 0600).
  func verificationSecret() throws -> [UInt8] {
    let path = (self.configuration.secretsDirectory as NSString).appendingPathComponent(
      "verification.key"
    )
    if let data = FileManager.default.contents(atPath: path) {
      guard data.count == 32 else { throw ConfigurationError("\(path) must hold exactly 32 bytes") }
      return Array(data)
    }
    var generator = SystemRandomNumberGenerator()
    let secret = (0 ..< 32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    try Self.writeSecret(Data(secret), to: path)
    return secret
  }

  /// The custody log's Ed25519 note signer: read from `path`, or generated there (mode 0600) on
  /// first start. Its name is the log's origin.
  func custodySigner(origin: String, path: String) throws -> NoteSigner {
    if let data = FileManager.default.contents(atPath: path) {
      let text = String(decoding: data, as: UTF8.self).trimmingCharacters(
        in: .whitespacesAndNewlines
      )
      let signer = try NoteSigner(privateKey: text)
      guard signer.name == origin else {
        throw ConfigurationError(
          "\(path) holds the key of \(signer.name), not of the log \(origin)"
        )
      }
      return signer
    }
    let signer = try NoteSigner(name: origin)
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent,
      withIntermediateDirectories: true,
      attributes: [.posixPermissions: 0o700]
    )
    try Self.writeSecret(Data((signer.privateKeyText + "\n").utf8), to: path)
    return signer
  }

  /// The key-encryption keys, from their file outside the data directory; made on the first
  /// start of an empty database. A database that holds data keys refuses to start without
  /// its file (or with another one: the store checks every key unwraps).
  /// - Parameter create: Whether a missing file may be made (the database holds no data key).
  func keyEncryptionKeys(create: Bool) throws -> KeyRingFile {
    do {
      return try KeyRingFile.open(path: self.configuration.keyEncryptionKeyFile, create: create)
    } catch let error as EncryptionError {
      throw ConfigurationError("\(error)")
    }
  }

  /// Writes a file readable by its owner only, failing if it exists.
  static func writeSecret(_ data: Data, to path: String) throws {
    guard
      FileManager.default.createFile(
        atPath: path,
        contents: data,
        attributes: [.posixPermissions: 0o600]
      )
    else { throw ConfigurationError("cannot write \(path)") }
  }
}
