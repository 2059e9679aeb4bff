public import Crypto
public import Foundation

/// A data key wrapped by a key-encryption key: which key, and the wrapped bytes.
public struct WrappedDataKey: Sendable, Hashable {
  /// The key-encryption key's id.
  public var keyID: String
  /// The data key sealed under it (AES-GCM: nonce, ciphertext, tag).
  public var bytes: Data

  /// Creates a wrapped key.
  public init(keyID: String, bytes: Data) {
    self.keyID = keyID
    self.bytes = bytes
  }
}

/// The key-encryption keys (KEKs) every data key is wrapped under. They live outside the
/// database, its folder and its backups: ``KeyRingFile`` keeps them in a file; a KMS or an HSM
/// can implement the same protocol (wrap and unwrap are its only operations on secrets).
public protocol KeyEncryptionKeys: Sendable {
  /// The key new data keys are wrapped under.
  var activeKeyID: String { get }
  /// Every key that can unwrap, the active one included.
  var keyIDs: [String] { get }
  /// Wraps a data key under the active key.
  func wrap(_ dataKey: SymmetricKey) throws -> WrappedDataKey
  /// Unwraps a data key.
  /// - Throws: ``EncryptionError`` when the key is not held or the bytes do not open under it.
  func unwrap(_ wrapped: WrappedDataKey) throws -> SymmetricKey
}

/// Why personal data cannot be sealed or opened.
public enum EncryptionError: Error, Hashable, Sendable, CustomStringConvertible {
  /// A data key is wrapped under a key-encryption key that is not held.
  case unknownKeyEncryptionKey(String)
  /// A wrapped data key does not open under its key-encryption key: a wrong key file.
  case wrongKeyEncryptionKey(String)
  /// A ciphertext does not open: altered, or moved from another record.
  case corrupted(String)
  /// The key file cannot be used.
  case keyFile(String)

  public var description: String {
    switch self {
    case .unknownKeyEncryptionKey(let id):
      "data keys are wrapped under key-encryption key \(id), which the key file does not hold"
    case .wrongKeyEncryptionKey(let id):
      "the key file's key \(id) does not unwrap the data keys wrapped under that id: a wrong key file"
    case .corrupted(let what): "a sealed value does not open: \(what)"
    case .keyFile(let problem): problem
    }
  }
}

extension KeyEncryptionKeys {
  /// AES-GCM wrapping shared by software keys: the key id is authenticated with the data key.
  static func wrap(
    _ dataKey: SymmetricKey,
    under kek: SymmetricKey,
    id: String
  ) throws
    -> WrappedDataKey
  {
    let bytes = dataKey.withUnsafeBytes { Data($0) }
    let sealed = try AES.GCM.seal(bytes, using: kek, authenticating: Data("kek \(id)".utf8))
    guard let combined = sealed.combined else { throw EncryptionError.corrupted("wrap") }
    return WrappedDataKey(keyID: id, bytes: combined)
  }

  static func unwrap(_ wrapped: WrappedDataKey, under kek: SymmetricKey) throws -> SymmetricKey {
    do {
      let box = try AES.GCM.SealedBox(combined: wrapped.bytes)
      let bytes = try AES.GCM.open(
        box,
        using: kek,
        authenticating: Data("kek \(wrapped.keyID)".utf8)
      )
      return SymmetricKey(data: bytes)
    } catch {
      throw EncryptionError.wrongKeyEncryptionKey(wrapped.keyID)
    }
  }
}

/// One key-encryption key held in memory only: for benchmarks and tests that make their
/// database and throw it away (its data cannot be read by another process).
public final class EphemeralKeyEncryptionKeys: KeyEncryptionKeys {
  private let key = SymmetricKey(size: .bits256)
  public let activeKeyID = "kek-ephemeral"
  public var keyIDs: [String] { [self.activeKeyID] }

  /// Creates a random key.
  public init() {}

  public func wrap(_ dataKey: SymmetricKey) throws -> WrappedDataKey {
    try Self.wrap(dataKey, under: self.key, id: self.activeKeyID)
  }

  public func unwrap(_ wrapped: WrappedDataKey) throws -> SymmetricKey {
    guard wrapped.keyID == self.activeKeyID else {
      throw EncryptionError.unknownKeyEncryptionKey(wrapped.keyID)
    }
    return try Self.unwrap(wrapped, under: self.key)
  }
}
