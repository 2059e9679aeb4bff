public import Crypto
public import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Key-encryption keys kept in one JSON file readable by its owner only, outside the data
/// directory: `{"active": "kek-…", "keys": [{"id": "kek-…", "key": "<base64 32 bytes>",
/// "createdAt": "…"}]}`. A rotation adds a key and makes it active; a key is retired (removed)
/// once no data key is wrapped under it. Every change is written to a new file, fsynced and
/// renamed over the old one, so a crash leaves the old file or the new one.
public final class KeyRingFile: KeyEncryptionKeys {
  private struct Entry: Codable {
    var id: String
    var key: String
    var createdAt: String?
  }
  private struct Contents: Codable {
    var active: String
    var keys: [Entry]
  }
  private struct State {
    var active: String
    var keys: [(id: String, key: SymmetricKey, createdAt: String?)]
  }

  /// The file.
  public let path: String
  private let state: Mutex<State>

  private init(path: String, state: State) {
    self.path = path
    self.state = Mutex(state)
  }

  /// Opens the key file; with `create`, makes one with a first key when there is none.
  /// - Throws: ``EncryptionError/keyFile(_:)`` when it is missing (and not to be created),
  ///   readable by others than its owner, or malformed.
  public static func open(path: String, create: Bool) throws -> KeyRingFile {
    guard let data = FileManager.default.contents(atPath: path) else {
      guard create else {
        throw EncryptionError.keyFile(
          "the key-encryption key file \(path) does not exist; the data cannot be read without it"
        )
      }
      let ring = KeyRingFile(path: path, state: State(active: "", keys: []))
      _ = try ring.addKey(now: Date())
      return ring
    }
    var info = stat()
    guard stat(path, &info) == 0 else { throw EncryptionError.keyFile("cannot stat \(path)") }
    guard info.st_mode & 0o077 == 0 else {
      throw EncryptionError.keyFile(
        "the key-encryption key file \(path) is readable by others: chmod 600 it"
      )
    }
    let contents: Contents
    do {
      contents = try JSONDecoder().decode(Contents.self, from: data)
    } catch {
      throw EncryptionError.keyFile("the key-encryption key file \(path) is not a key ring")
    }
    var keys: [(id: String, key: SymmetricKey, createdAt: String?)] = []
    for entry in contents.keys {
      guard let bytes = Data(base64Encoded: entry.key), bytes.count == 32 else {
        throw EncryptionError.keyFile("\(path): key \(entry.id) is not 32 bytes of base64")
      }
      keys.append((entry.id, SymmetricKey(data: bytes), entry.createdAt))
    }
    guard keys.contains(where: { $0.id == contents.active }) else {
      throw EncryptionError.keyFile("\(path): the active key \(contents.active) is not in it")
    }
    return KeyRingFile(path: path, state: State(active: contents.active, keys: keys))
  }

  public var activeKeyID: String { self.state.withLock { $0.active } }
  public var keyIDs: [String] { self.state.withLock { $0.keys.map(\.id) } }

  public func wrap(_ dataKey: SymmetricKey) throws -> WrappedDataKey {
    let (id, key) = self.state.withLock { state in
      (state.active, state.keys.first { $0.id == state.active }!.key)
    }
    return try Self.wrap(dataKey, under: key, id: id)
  }

  public func unwrap(_ wrapped: WrappedDataKey) throws -> SymmetricKey {
    guard let key = self.state.withLock({ $0.keys.first { $0.id == wrapped.keyID }?.key }) else {
      throw EncryptionError.unknownKeyEncryptionKey(wrapped.keyID)
    }
    return try Self.unwrap(wrapped, under: key)
  }

  /// Adds a new random key, makes it the active one and writes the file.
  /// - Returns: The new key's id.
  @discardableResult
  public func addKey(now: Date) throws -> String {
    var random = SystemRandomNumberGenerator()
    let suffix = (0 ..< 6).map { _ in
      String(format: "%02x", UInt8.random(in: 0 ... 255, using: &random))
    }
    let id = "kek-" + suffix.joined()
    let created = ISO8601DateFormatter().string(from: now)
    return try self.state.withLock { state in
      var next = state
      next.keys.append((id, SymmetricKey(size: .bits256), created))
      next.active = id
      try Self.write(next, to: self.path)
      state = next
      return id
    }
  }

  /// Removes a key that is no longer active and writes the file.
  public func retire(_ id: String) throws {
    try self.state.withLock { state in
      guard id != state.active else {
        throw EncryptionError.keyFile("the active key \(id) cannot be retired")
      }
      var next = state
      next.keys.removeAll { $0.id == id }
      try Self.write(next, to: self.path)
      state = next
    }
  }

  private static func write(_ state: State, to path: String) throws {
    let contents = Contents(
      active: state.active,
      keys: state.keys.map {
        Entry(
          id: $0.id,
          key: $0.key.withUnsafeBytes { Data($0) }.base64EncodedString(),
          createdAt: $0.createdAt
        )
      }
    )
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(contents)
    let folder = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(
      atPath: folder.isEmpty ? "." : folder,
      withIntermediateDirectories: true,
      attributes: [.posixPermissions: 0o700]
    )
    let temporary = path + ".new"
    try? FileManager.default.removeItem(atPath: temporary)
    let descriptor = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard descriptor >= 0 else { throw EncryptionError.keyFile("cannot write \(temporary)") }
    let written = data.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
    let synced = fsync(descriptor)
    close(descriptor)
    guard written == data.count, synced == 0 else {
      throw EncryptionError.keyFile("cannot write \(temporary)")
    }
    guard rename(temporary, path) == 0 else {
      throw EncryptionError.keyFile("cannot replace \(path)")
    }
    try? FileBlobStore.syncDirectory(folder.isEmpty ? "." : folder)
  }
}
