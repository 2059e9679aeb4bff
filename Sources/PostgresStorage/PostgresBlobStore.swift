import Crypto
import Foundation
import Logging
public import Persistence
import PostgresNIO
public import Tracking

/// Scanned documents in PostgreSQL, so every replica reads what any replica stored: one `blob`
/// row per content (its SHA-256, the data key it is sealed under) and its bytes in sealed
/// chunks of ``chunkSize`` (`blob_chunk`, `bytea`). An upload seals its chunks as they arrive
/// into a local spool file (plain bytes never touch the disk) and commits them in one
/// transaction; the same content is stored once. Erasing a shipment destroys the scan's key,
/// so its chunks no longer open, and ``remove(sha256:)`` deletes them.
public struct PostgresBlobStore: BlobStore {
  let pool: PostgresPool
  let rows: PostgresShipmentRows
  /// Where uploads are spooled until they commit.
  let spool: String
  /// Plain bytes per sealed chunk.
  public static let chunkSize = 256 * 1024

  /// A store on a migrated database, sealing under data keys wrapped by `keys`.
  /// - Parameter spool: A local folder for uploads in progress (emptied at start).
  public init(pool: PostgresPool, keys: any KeyEncryptionKeys, spool: String) throws {
    self.pool = pool
    self.rows = PostgresShipmentRows(records: SealedRecords(keys: keys), logger: pool.logger)
    self.spool = spool
    try? FileManager.default.removeItem(atPath: spool)
    try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
  }

  var logger: Logger { self.pool.logger }

  public func beginUpload() async throws -> any BlobUpload {
    do {
      let key = try await self.pool.transaction { connection in
        try await self.rows.newKey(on: connection, now: Self.now())
      }
      return try PostgresBlobUpload(
        store: self,
        key: key,
        path: (self.spool as NSString).appendingPathComponent(UUID().uuidString)
      )
    } catch let error as BlobError {
      throw error
    } catch {
      throw BlobError.io("\(error)")
    }
  }

  static func now() -> Timestamp {
    Timestamp(microseconds: Int64(Date().timeIntervalSince1970 * 1_000_000))
  }

  /// Stores a finished upload's sealed chunks under its digest; `false` when the content is
  /// already stored (the upload's key is then destroyed).
  func commit(
    spooled path: String,
    key: SealedRecords.Key,
    sha256: String,
    size: Int64
  )
    async throws -> Bool
  {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw BlobError.io("the upload's spool file is gone")
    }
    defer { try? handle.close() }
    return try await self.pool.transaction { connection in
      let inserted = try await connection.query(
        """
        INSERT INTO blob (sha256, data_key_id, size, chunks, stored_at)
        VALUES (\(sha256), \(key.id), \(size), 0, \(Self.now().microseconds))
        ON CONFLICT (sha256) DO NOTHING RETURNING sha256
        """,
        logger: self.logger
      )
      var isNew = false
      for try await _ in inserted.decode(String.self) { isNew = true }
      guard isNew else {
        try await connection.query("DELETE FROM data_key WHERE id = \(key.id)", logger: self.logger)
        return false
      }
      var chunk = 0
      while let length = try handle.read(upToCount: 4), length.count == 4 {
        let count = length.withUnsafeBytes {
          Int(UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)))
        }
        let sealed = try handle.read(upToCount: count) ?? Data()
        guard sealed.count == count else { throw BlobError.io("the upload's spool file is short") }
        try await connection.query(
          "INSERT INTO blob_chunk (sha256, chunk, sealed) VALUES (\(sha256), \(chunk), \(sealed))",
          logger: self.logger
        )
        chunk += 1
      }
      try await connection.query(
        "UPDATE blob SET chunks = \(chunk) WHERE sha256 = \(sha256)",
        logger: self.logger
      )
      return true
    }
  }

  /// Destroys an aborted upload's key.
  func discard(_ key: SealedRecords.Key) async {
    try? await self.pool.execute("DELETE FROM data_key WHERE id = \(key.id)")
  }

  public func read(
    sha256: String,
    chunkSize: Int,
    _ body: ([UInt8]) async throws -> Void
  ) async throws {
    try await self.pool.withConnection { connection in
      let found = try await connection.query(
        """
        SELECT b.chunks, k.id, k.kek_id, k.wrapped FROM blob b
        LEFT JOIN data_key k ON k.id = b.data_key_id WHERE b.sha256 = \(sha256)
        """,
        logger: self.logger
      )
      var stored: (chunks: Int, key: SealedRecords.Key?)?
      for try await (chunks, id, kek, wrapped) in found.decode((Int, Int64?, String?, Data?).self) {
        var key: SealedRecords.Key?
        if let id, let kek, let wrapped {
          key = try self.rows.records.key(
            id: id,
            wrapped: WrappedDataKey(keyID: kek, bytes: wrapped)
          )
        }
        stored = (chunks, key)
      }
      // Absent, or its key destroyed (erased): not found either way.
      guard let stored, let key = stored.key else { throw BlobError.notFound }
      var hasher = SHA256()
      var next = 0
      let rows = try await connection.query(
        "SELECT chunk, sealed FROM blob_chunk WHERE sha256 = \(sha256) ORDER BY chunk",
        logger: self.logger
      )
      for try await (chunk, sealed) in rows.decode((Int, Data).self) {
        guard chunk == next else { throw BlobError.corrupted }
        next += 1
        let plain: Data
        do {
          plain = try self.rows.records.open(
            sealed,
            context: SealedRecords.scanChunkContext(keyID: key.id, chunk: chunk),
            with: key
          )
        } catch {
          throw BlobError.corrupted
        }
        hasher.update(data: plain)
        var offset = plain.startIndex
        while offset < plain.endIndex {
          let end = min(offset + max(1, chunkSize), plain.endIndex)
          try await body(Array(plain[offset ..< end]))
          offset = end
        }
      }
      guard next == stored.chunks, hexString(hasher.finalize()) == sha256 else {
        throw BlobError.corrupted
      }
    }
  }

  public func contains(sha256: String) async throws -> Bool {
    try await self.pool.withConnection { connection in
      let rows = try await connection.query(
        """
        SELECT 1 FROM blob b JOIN data_key k ON k.id = b.data_key_id
        WHERE b.sha256 = \(sha256)
        """,
        logger: self.logger
      )
      for try await _ in rows.decode(Int.self) { return true }
      return false
    }
  }

  public func remove(sha256: String) async {
    try? await self.pool.execute("DELETE FROM blob WHERE sha256 = \(sha256)")
  }
}

/// One upload in progress, spooled as sealed, length-prefixed chunks. Not shared between tasks.
final class PostgresBlobUpload: BlobUpload {
  private let store: PostgresBlobStore
  private let key: SealedRecords.Key
  private let path: String
  private let handle: FileHandle
  private var hasher = SHA256()
  private var pending = Data()
  private var chunks = 0
  private var finished = false
  private(set) var size: Int64 = 0
  private(set) var head: [UInt8] = []

  init(store: PostgresBlobStore, key: SealedRecords.Key, path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: nil),
      let handle = FileHandle(forWritingAtPath: path)
    else { throw BlobError.io("cannot create an upload spool file") }
    self.store = store
    self.key = key
    self.path = path
    self.handle = handle
  }

  func write(_ bytes: some Sequence<UInt8>) throws {
    let data = Data(bytes)
    if self.head.count < 16 { self.head += data.prefix(16 - self.head.count) }
    self.hasher.update(data: data)
    self.size += Int64(data.count)
    self.pending.append(data)
    while self.pending.count >= PostgresBlobStore.chunkSize {
      try self.spool(self.pending.prefix(PostgresBlobStore.chunkSize))
      self.pending = Data(self.pending.dropFirst(PostgresBlobStore.chunkSize))
    }
  }

  private func spool(_ plain: Data) throws {
    let sealed = try self.store.rows.records.seal(
      plain,
      context: SealedRecords.scanChunkContext(keyID: self.key.id, chunk: self.chunks),
      with: self.key
    )
    var length = UInt32(sealed.count).bigEndian
    try self.handle.write(contentsOf: Data(bytes: &length, count: 4))
    try self.handle.write(contentsOf: sealed)
    self.chunks += 1
  }

  func finish() throws -> String {
    if !self.pending.isEmpty || self.chunks == 0 { try self.spool(self.pending) }
    self.pending = Data()
    try self.handle.close()
    self.finished = true
    return hexString(self.hasher.finalize())
  }

  func commit(sha256: String) async throws -> Bool {
    precondition(self.finished, "finish() before commit()")
    defer { try? FileManager.default.removeItem(atPath: self.path) }
    do {
      return try await self.store.commit(
        spooled: self.path,
        key: self.key,
        sha256: sha256,
        size: self.size
      )
    } catch let error as BlobError {
      throw error
    } catch {
      throw BlobError.io("\(error)")
    }
  }

  func abort() async {
    if !self.finished { try? self.handle.close() }
    try? FileManager.default.removeItem(atPath: self.path)
    await self.store.discard(self.key)
  }
}
