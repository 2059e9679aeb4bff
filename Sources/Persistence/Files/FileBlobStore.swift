import Crypto
import Foundation
public import Tracking

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Scanned files, content-addressed under one folder: `sha256/<2 hex>/<62 hex>` (the digest of
/// the plain content).
///
/// An upload streams into `tmp/`, hashing as it goes; only a finished, verified upload is fsynced
/// and renamed into place (then the folder is fsynced), so a file under `sha256/` is always
/// complete and named by its content. The same content is stored once. With a keyring, every
/// file is sealed under a data key of its own (``SealedBlobFormat``); files written before
/// sealing are read as they are.
public final class FileBlobStore: BlobStore {
  /// The folder.
  public let root: String
  let keyring: (any BlobKeyring)?

  /// Opens (creating) the folder and removes uploads a crash left unfinished.
  /// - Parameters:
  ///   - root: The folder.
  ///   - keyring: Where the files' data keys are kept; `nil` reads and writes plain files
  ///     (tools that only check which files exist).
  public convenience init(root: String) throws {
    try self.init(root: root, keyring: nil)
  }

  init(root: String, keyring: (any BlobKeyring)?) throws {
    self.root = root
    self.keyring = keyring
    let manager = FileManager.default
    try manager.createDirectory(atPath: self.objectsDirectory, withIntermediateDirectories: true)
    try? manager.removeItem(atPath: self.temporaryDirectory)
    try manager.createDirectory(atPath: self.temporaryDirectory, withIntermediateDirectories: true)
  }

  private var objectsDirectory: String { (self.root as NSString).appendingPathComponent("sha256") }
  private var temporaryDirectory: String { (self.root as NSString).appendingPathComponent("tmp") }

  /// Where a file with this digest lives.
  /// - Parameter sha256: 64 lower-case hex digits.
  public func path(sha256: String) -> String {
    precondition(sha256.utf8.count == 64, "a SHA-256 digest has 64 hex digits")
    return
      ((self.objectsDirectory as NSString).appendingPathComponent(String(sha256.prefix(2)))
      as NSString)
      .appendingPathComponent(String(sha256.dropFirst(2)))
  }

  /// Whether a file with this digest is stored.
  public func contains(sha256: String) -> Bool {
    FileManager.default.fileExists(atPath: self.path(sha256: sha256))
  }

  /// Starts an upload.
  public func beginUpload() async throws -> any BlobUpload {
    try FileBlobUpload(
      store: self,
      temporaryPath: (self.temporaryDirectory as NSString).appendingPathComponent(
        UUID().uuidString
      ),
      key: try await self.keyring?.newKey()
    )
  }

  /// Removes a file whose key was destroyed (its personal data erased). Nothing if absent.
  public func remove(sha256: String) {
    try? FileManager.default.removeItem(atPath: self.path(sha256: sha256))
  }

  /// Reads a stored file in chunks, checking its digest as it goes.
  /// - Parameters:
  ///   - sha256: The digest.
  ///   - chunkSize: Bytes per chunk.
  ///   - body: Called with each chunk.
  /// - Throws: ``BlobError/notFound``, ``BlobError/corrupted`` when the bytes no longer match.
  public func read(
    sha256: String,
    chunkSize: Int,
    _ body: ([UInt8]) async throws -> Void
  ) async throws {
    guard let handle = FileHandle(forReadingAtPath: self.path(sha256: sha256)) else {
      throw BlobError.notFound
    }
    defer { try? handle.close() }
    var hasher = SHA256()
    let head = try handle.read(upToCount: SealedBlobFormat.headerSize) ?? Data()
    if let keyID = SealedBlobFormat.keyID(ofHeader: head) {
      guard let keyring = self.keyring, let key = try await keyring.key(keyID) else {
        // The key was destroyed: the file is erased even if its bytes are still here.
        throw BlobError.notFound
      }
      var reader = SealedBlobFormat.Reader(key: key)
      while let frame = try reader.next(from: handle) {
        hasher.update(data: frame)
        try await body(Array(frame))
      }
    } else {
      // A file written before sealing.
      var data = head
      while !data.isEmpty {
        hasher.update(data: data)
        try await body(Array(data))
        data = try handle.read(upToCount: chunkSize) ?? Data()
      }
    }
    guard Self.hex(hasher.finalize()) == sha256 else { throw BlobError.corrupted }
  }

  /// Seals a stored file again under a new data key (a data-key rotation): the new file
  /// replaces the old in one rename, then the digest is moved to the new key and the old key
  /// destroyed. A reader finds the key in the file's header, so the file is readable at every
  /// step; a file erased meanwhile is removed instead.
  /// - Parameters:
  ///   - sha256: The digest.
  ///   - bound: The key the database binds it to.
  func reseal(sha256: String, bound: Int64) async throws {
    guard let keyring = self.keyring else { return }
    let destination = self.path(sha256: sha256)
    guard let handle = FileHandle(forReadingAtPath: destination) else { return }
    defer { try? handle.close() }
    let head = try handle.read(upToCount: SealedBlobFormat.headerSize) ?? Data()
    guard let current = SealedBlobFormat.keyID(ofHeader: head),
      let old = try await keyring.key(current)
    else { return }  // a file from before sealing (sealed on its next upload), or erased
    let key = try await keyring.newKey()
    let temporary = (self.temporaryDirectory as NSString).appendingPathComponent(
      UUID().uuidString
    )
    do {
      guard FileManager.default.createFile(atPath: temporary, contents: nil),
        let out = FileHandle(forWritingAtPath: temporary)
      else { throw BlobError.io("cannot create a file to reseal into") }
      defer { try? out.close() }
      try out.write(contentsOf: SealedBlobFormat.header(keyID: key.id))
      var reader = SealedBlobFormat.Reader(key: old)
      var writer = SealedBlobFormat.Writer(key: key)
      while let content = try reader.next(from: handle) {
        for frame in try writer.append(content) { try out.write(contentsOf: frame) }
      }
      try out.write(contentsOf: try writer.finish())
      try out.synchronize()
      guard rename(temporary, destination) == 0 else {
        throw BlobError.io("rename failed: errno \(errno)")
      }
    } catch {
      try? FileManager.default.removeItem(atPath: temporary)
      try? await keyring.discard(key.id)
      throw error
    }
    try Self.syncDirectory((destination as NSString).deletingLastPathComponent)
    if try await keyring.rebind(sha256: sha256, from: bound, to: key.id) {
      if current != bound { try await keyring.discard(current) }
    } else {
      // Erased while it was being resealed: it stays erased.
      try? FileManager.default.removeItem(atPath: destination)
      try await keyring.discard(key.id)
    }
  }

  fileprivate func commit(
    temporaryPath: String,
    sha256: String,
    keyID: Int64?
  ) async throws -> Bool {
    let destination = self.path(sha256: sha256)
    let folder = (destination as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    if FileManager.default.fileExists(atPath: destination), !(await self.isErased(destination)) {
      try FileManager.default.removeItem(atPath: temporaryPath)
      if let keyID { try await self.keyring?.discard(keyID) }
      return false
    }
    if let keyID { try await self.keyring?.bind(sha256: sha256, keyID: keyID) }
    guard rename(temporaryPath, destination) == 0 else {
      throw BlobError.io("rename failed: errno \(errno)")
    }
    try Self.syncDirectory(folder)
    return true
  }

  /// Whether a stored file is sealed under a destroyed key (its removal after an erasure did
  /// not happen): the same content uploaded again replaces it.
  private func isErased(_ path: String) async -> Bool {
    guard let keyring = self.keyring, let handle = FileHandle(forReadingAtPath: path) else {
      return false
    }
    defer { try? handle.close() }
    let head = (try? handle.read(upToCount: SealedBlobFormat.headerSize)) ?? Data()
    guard let id = SealedBlobFormat.keyID(ofHeader: head) else { return false }
    return (try? await keyring.key(id)) == nil
  }

  static func syncDirectory(_ path: String) throws {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { throw BlobError.io("cannot open \(path) to sync it") }
    defer { close(descriptor) }
    guard fsync(descriptor) == 0 else { throw BlobError.io("fsync of \(path) failed") }
  }

  static func hex(_ digest: some Sequence<UInt8>) -> String { hexString(digest) }
}

/// One upload in progress. Not shared between tasks.
public final class FileBlobUpload: BlobUpload {
  private let store: FileBlobStore
  private let temporaryPath: String
  private let handle: FileHandle
  private var hasher = SHA256()
  private var finished = false
  private let key: DataKey?
  private var writer: SealedBlobFormat.Writer?
  /// Bytes written so far.
  public private(set) var size: Int64 = 0
  /// The first bytes of the file (up to 16), for the type check.
  public private(set) var head: [UInt8] = []

  fileprivate init(store: FileBlobStore, temporaryPath: String, key: DataKey?) throws {
    guard FileManager.default.createFile(atPath: temporaryPath, contents: nil) else {
      throw BlobError.io("cannot create an upload file")
    }
    guard let handle = FileHandle(forWritingAtPath: temporaryPath) else {
      throw BlobError.io("cannot open the upload file")
    }
    self.store = store
    self.temporaryPath = temporaryPath
    self.handle = handle
    self.key = key
    if let key {
      self.writer = SealedBlobFormat.Writer(key: key)
      try handle.write(contentsOf: SealedBlobFormat.header(keyID: key.id))
    }
  }

  /// Appends bytes.
  public func write(_ bytes: some Sequence<UInt8>) throws {
    let data = Data(bytes)
    if self.head.count < 16 { self.head += data.prefix(16 - self.head.count) }
    self.hasher.update(data: data)
    if self.writer != nil {
      for frame in try self.writer!.append(data) { try self.handle.write(contentsOf: frame) }
    } else {
      try self.handle.write(contentsOf: data)
    }
    self.size += Int64(data.count)
  }

  /// The digest of everything written, lower-case hex; the file is flushed to disk.
  public func finish() throws -> String {
    if self.writer != nil { try self.handle.write(contentsOf: try self.writer!.finish()) }
    try self.handle.synchronize()
    try self.handle.close()
    self.finished = true
    return FileBlobStore.hex(self.hasher.finalize())
  }

  /// Moves the finished upload into place. Returns `false` when the content was already stored
  /// (the upload is then discarded).
  public func commit(sha256: String) async throws -> Bool {
    precondition(self.finished, "finish() before commit()")
    return try await self.store.commit(
      temporaryPath: self.temporaryPath,
      sha256: sha256,
      keyID: self.key?.id
    )
  }

  /// Discards the upload.
  public func abort() async {
    if !self.finished { try? self.handle.close() }
    try? FileManager.default.removeItem(atPath: self.temporaryPath)
    if let key = self.key { try? await self.store.keyring?.discard(key.id) }
  }
}
