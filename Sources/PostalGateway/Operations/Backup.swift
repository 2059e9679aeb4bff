import Crypto
import Foundation
import Persistence
import Tracking

/// `backup.json`: what a backup holds, with the SHA-256 of every file, so that a restore can
/// prove it restores exactly what was taken.
struct BackupManifest: Codable, Sendable, Equatable {
  /// One file of the backup.
  struct File: Codable, Sendable, Equatable {
    /// Its path inside the backup folder.
    var path: String
    var bytes: Int64
    /// Lower-case hex.
    var sha256: String
  }

  static let currentFormat = "postal-gateway-backup/1"
  static let fileName = "backup.json"
  /// Where the database copy lives inside the backup.
  static let databasePath = "data/postal-gateway.sqlite"

  var format = Self.currentFormat
  /// When the database snapshot was taken (RFC 3339, UTC).
  var takenAt: String
  /// The custody log's origin line.
  var custodyOrigin: String
  var shipments: Int64
  var events: Int64
  /// The custody log's size and root (base64) in the snapshot.
  var treeSize: Int64
  var treeRoot: String
  /// The latest checkpoint signed in the snapshot (the signed note), if any.
  var latestCheckpoint: String?
  /// The procedure catalog version in the backup's catalog file, if there is one.
  var catalogVersion: String?
  /// Configuration files copied from outside the data directory: backup path → original path.
  var configuration: [String: String]
  var files: [File]
}

/// Takes a backup of a data directory, while the gateway serves: first a consistent snapshot
/// of the database (SQLite's online backup API), then the scans (content-addressed and never
/// deleted, each written and fsynced before the commit that names it, so every scan the
/// snapshot names is there), the secrets and keys, the development PKI if any, and the
/// configuration files; last the manifest, so a folder without `backup.json` is not a backup.
struct BackupTaker {
  let configuration: GatewayConfiguration
  /// The configuration file the gateway runs with, copied into the backup when given.
  var configurationFile: String?

  /// Writes the backup into `folder`, which must not exist or be empty.
  /// - Returns: The manifest written.
  func take(into folder: String, now: Timestamp) async throws -> BackupManifest {
    let manager = FileManager.default
    if let existing = try? manager.contentsOfDirectory(atPath: folder), !existing.isEmpty {
      throw ConfigurationError("backup folder \(folder) is not empty")
    }
    try manager.createDirectory(
      atPath: folder,
      withIntermediateDirectories: true,
      attributes: [.posixPermissions: 0o700]
    )
    let data = (folder as NSString).appendingPathComponent("data")
    try manager.createDirectory(atPath: data, withIntermediateDirectories: true)
    let database = (folder as NSString).appendingPathComponent(BackupManifest.databasePath)
    try SQLiteBackup.snapshot(from: self.configuration.databasePath, to: database)

    // Everything else in the data directory but the live database and unfinished uploads.
    let source = self.configuration.dataDirectory
    let live = (self.configuration.databasePath as NSString).lastPathComponent
    for relative in try BackupFiles.walk(source) {
      if relative.hasPrefix(live) || relative.hasPrefix("scans/tmp/") { continue }
      try BackupFiles.copy(
        (source as NSString).appendingPathComponent(relative),
        to: (data as NSString).appendingPathComponent(relative)
      )
    }
    var copied: [String: String] = [:]
    for original in self.configurationFiles() {
      let name = "configuration/" + (original as NSString).lastPathComponent
      guard copied[name] == nil else { continue }
      try BackupFiles.copy(original, to: (folder as NSString).appendingPathComponent(name))
      copied[name] = original
    }

    let contents = try SQLiteBackup.contents(of: database)
    let (root, checkpoint) = try await Self.log(
      at: database,
      origin: self.configuration.custodyOrigin
    )
    // Reading the log opened the copy in WAL mode: fold it back into one file before hashing.
    try SQLiteBackup.makeStandalone(database)
    let manifest = BackupManifest(
      takenAt: now.description,
      custodyOrigin: self.configuration.custodyOrigin,
      shipments: contents.shipments,
      events: contents.events,
      treeSize: contents.treeSize,
      treeRoot: Data(root).base64EncodedString(),
      latestCheckpoint: checkpoint,
      catalogVersion: try? CatalogFile.load(
        path: (data as NSString).appendingPathComponent("catalog.json")
      ).version,
      configuration: copied,
      files: try BackupFiles.walk(folder).map { relative in
        try BackupFiles.describe((folder as NSString).appendingPathComponent(relative), relative)
      }
    )
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try BackupFiles.writeDurably(
      try encoder.encode(manifest),
      to: (folder as NSString).appendingPathComponent(BackupManifest.fileName)
    )
    return manifest
  }

  /// The copy's log root and latest signed checkpoint; the store is closed on return.
  private static func log(at path: String, origin: String) async throws -> ([UInt8], String?) {
    let log = CustodyLog(origin: origin, store: try SQLiteStorage.openCustodyLog(path: path))
    return (
      try await log.root(size: try await log.treeSize()), try await log.latestCheckpoint()?.note
    )
  }

  /// The files outside the data directory that the gateway reads: the configuration file, the
  /// catalog, the routing file (and the certificates it names stay the operator's), the SLA
  /// policy, and the custody key when it lives elsewhere.
  private func configurationFiles() -> [String] {
    let inside = { (path: String) in
      (path as NSString).standardizingPath.hasPrefix(
        (self.configuration.dataDirectory as NSString).standardizingPath + "/"
      )
    }
    return [
      self.configurationFile, self.configuration.catalogPath,
      self.configuration.handoffs.routesFile, self.configuration.sla.policyFile,
      self.configuration.custodyKeyPath,
    ].compactMap { $0 }.filter { !inside($0) && FileManager.default.fileExists(atPath: $0) }
  }
}

/// File helpers for backups: a sorted walk, durable copies and digests.
enum BackupFiles {
  /// Every regular file under `root`, as sorted relative paths.
  static func walk(_ root: String) throws -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: root) else {
      throw ConfigurationError("\(root) cannot be read")
    }
    var files: [String] = []
    while let relative = enumerator.nextObject() as? String {
      var isDirectory: ObjCBool = false
      let path = (root as NSString).appendingPathComponent(relative)
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
        !isDirectory.boolValue
      {
        files.append(relative)
      }
    }
    return files.sorted()
  }

  /// Copies a file (creating folders), keeping owner-only permissions for secrets, and fsyncs it.
  static func copy(_ source: String, to destination: String) throws {
    guard let data = FileManager.default.contents(atPath: source) else {
      throw ConfigurationError("\(source) cannot be read")
    }
    let attributes = try? FileManager.default.attributesOfItem(atPath: source)
    try FileManager.default.createDirectory(
      atPath: (destination as NSString).deletingLastPathComponent,
      withIntermediateDirectories: true,
      attributes: [.posixPermissions: 0o700]
    )
    try self.writeDurably(
      data,
      to: destination,
      permissions: (attributes?[.posixPermissions] as? NSNumber)?.int16Value ?? 0o600
    )
  }

  /// Writes and fsyncs a new file.
  static func writeDurably(_ data: Data, to path: String, permissions: Int16 = 0o600) throws {
    guard
      FileManager.default.createFile(
        atPath: path,
        contents: data,
        attributes: [.posixPermissions: permissions]
      ), let handle = FileHandle(forUpdatingAtPath: path)
    else { throw ConfigurationError("cannot write \(path)") }
    defer { try? handle.close() }
    try handle.synchronize()
  }

  /// A file's manifest entry.
  static func describe(_ path: String, _ relative: String) throws -> BackupManifest.File {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw ConfigurationError("\(path) cannot be read")
    }
    defer { try? handle.close() }
    var hasher = SHA256()
    var bytes: Int64 = 0
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
      hasher.update(data: chunk)
      bytes += Int64(chunk.count)
    }
    return BackupManifest.File(
      path: relative,
      bytes: bytes,
      sha256: hexString(hasher.finalize())
    )
  }
}
