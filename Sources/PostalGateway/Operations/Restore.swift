import Foundation
import Persistence
import Tracking

/// Restores a backup into a new data directory, and proves the result: the manifest's digests,
/// `log fsck` on the restored log, the log against the checkpoint signed last (the backup's own,
/// and optionally a later one kept elsewhere), and every scan the database names.
///
/// The files are staged beside the target and renamed into place only when every check passes:
/// a failed restore leaves nothing behind.
struct BackupRestorer {
  /// The backup folder.
  let backup: String
  /// The configuration the restored gateway will run with (its data directory must be new).
  let configuration: GatewayConfiguration
  /// A checkpoint (signed note) kept outside the backup, for example the last one a citizen's
  /// receipt or a witness holds: the restored log must contain it, or the restore says how many
  /// acknowledged entries the backup lacks.
  var laterCheckpoint: String?

  /// What a restore proved.
  struct Report: Sendable {
    var manifest: BackupManifest
    var files: Int
    var audit: CustodyLogAudit.Finding
    var scans: Int
    /// The outside checkpoint's size, when one was given.
    var checkedAgainst: Int64?
  }

  /// Why a restore stopped.
  struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
  }

  func restore() async throws -> Report {
    let manifest = try self.verifiedManifest()
    let manager = FileManager.default
    let target = self.configuration.dataDirectory
    if let existing = try? manager.contentsOfDirectory(atPath: target), !existing.isEmpty {
      throw Failure("\(target) is not empty: restore into a new data directory")
    }
    let staging = (target as NSString).standardizingPath + ".restoring-\(UUID().uuidString)"
    defer { try? manager.removeItem(atPath: staging) }
    for file in manifest.files {
      let source = (self.backup as NSString).appendingPathComponent(file.path)
      if file.path.hasPrefix("data/") {
        try BackupFiles.copy(
          source,
          to: (staging as NSString).appendingPathComponent(String(file.path.dropFirst(5)))
        )
      } else if file.path.hasPrefix("configuration/") {
        try BackupFiles.copy(
          source,
          to: ((staging as NSString).appendingPathComponent("restored-") as NSString)
            .appendingPathComponent(file.path)
        )
      }
    }
    var staged = self.configuration
    staged.dataDirectory = staging
    if let key = self.configuration.custodyKeyPath, !manager.fileExists(atPath: key) {
      throw Failure("the custody key \(key) is missing (it is in configuration/ of the backup)")
    }
    guard manager.fileExists(atPath: staged.custodyKeyFile) else {
      throw Failure("the backup holds no custody key at \(staged.custodyKeyFile)")
    }
    let report = try await self.check(staged, manifest: manifest)
    if manager.fileExists(atPath: target) { try manager.removeItem(atPath: target) }
    try manager.moveItem(atPath: staging, toPath: target)
    return report
  }

  /// Reads the manifest and checks every file against it; a file missing, changed or not
  /// listed stops the restore before anything is written.
  private func verifiedManifest() throws -> BackupManifest {
    let path = (self.backup as NSString).appendingPathComponent(BackupManifest.fileName)
    guard let data = FileManager.default.contents(atPath: path) else {
      throw Failure("\(path) is missing: \(self.backup) is not a finished backup")
    }
    let manifest: BackupManifest
    do {
      manifest = try JSONDecoder().decode(BackupManifest.self, from: data)
    } catch {
      throw Failure("\(path): \(FileProblem.describe(error))")
    }
    guard manifest.format == BackupManifest.currentFormat else {
      throw Failure("\(path): format \(manifest.format) is not \(BackupManifest.currentFormat)")
    }
    let listed = Set(manifest.files.map(\.path))
    for relative in try BackupFiles.walk(self.backup) where relative != BackupManifest.fileName {
      guard listed.contains(relative) else {
        throw Failure("\(relative) is in the backup folder but not in the manifest")
      }
    }
    for file in manifest.files {
      let full = (self.backup as NSString).appendingPathComponent(file.path)
      guard FileManager.default.fileExists(atPath: full) else {
        throw Failure("\(file.path) is listed in the manifest but missing")
      }
      let found = try BackupFiles.describe(full, file.path)
      guard found == file else {
        throw Failure(
          "\(file.path) does not match the manifest (SHA-256 \(found.sha256), \(found.bytes) bytes)"
        )
      }
    }
    guard listed.contains(BackupManifest.databasePath) else {
      throw Failure("the manifest lists no database (\(BackupManifest.databasePath))")
    }
    return manifest
  }

  private func check(
    _ staged: GatewayConfiguration,
    manifest: BackupManifest
  ) async throws
    -> Report
  {
    let signer = try DataDirectory(configuration: staged).custodySigner(
      origin: staged.custodyOrigin,
      path: staged.custodyKeyFile
    )
    let verifier = try NoteVerifier(signer.verifierKey)
    let store = try SQLiteStorage.openCustodyLog(path: staged.databasePath)
    let audit = try await CustodyLogAudit(store: store, verifier: verifier).run()
    if let problem = audit.problem { throw Failure("log fsck: \(problem)") }
    let log = CustodyLog(origin: staged.custodyOrigin, store: store)
    let size = try await log.treeSize()
    let root = Data(try await log.root(size: size)).base64EncodedString()
    guard size == manifest.treeSize, root == manifest.treeRoot else {
      throw Failure(
        "the restored log (\(size) leaves) differs from the manifest (\(manifest.treeSize))"
      )
    }
    let later = try self.laterCheckpointNote()
    for note in [manifest.latestCheckpoint, later].compactMap({ $0 }) {
      try await self.check(note, against: log, size: size, verifier: verifier)
    }
    let contents = try SQLiteBackup.contents(of: staged.databasePath)
    let blobs = try FileBlobStore(root: staged.blobDirectory)
    for digest in contents.scanDigests where !blobs.contains(sha256: digest) {
      throw Failure("the scan \(digest) named by the database is not in the backup")
    }
    return Report(
      manifest: manifest,
      files: manifest.files.count,
      audit: audit,
      scans: contents.scanDigests.count,
      checkedAgainst: later.flatMap { try? Checkpoint(text: verifier.open($0)).size }
    )
  }

  private func laterCheckpointNote() throws -> String? {
    guard let path = self.laterCheckpoint else { return nil }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw Failure("the checkpoint file \(path) cannot be read")
    }
    return String(decoding: data, as: UTF8.self)
  }

  /// A signed checkpoint must be one of this log's, and the restored log must contain it.
  private func check(
    _ note: String,
    against log: CustodyLog,
    size: Int64,
    verifier: NoteVerifier
  ) async throws {
    guard let text = try? verifier.open(note), let checkpoint = try? Checkpoint(text: text) else {
      throw Failure("a checkpoint is not signed by this log's key")
    }
    guard checkpoint.size <= size else {
      throw Failure(
        "the checkpoint of size \(checkpoint.size) is newer than the backup (\(size) leaves): "
          + "\(checkpoint.size - size) acknowledged custody entries are not in it"
      )
    }
    guard try await log.root(size: checkpoint.size) == checkpoint.root else {
      throw Failure("the restored log contradicts the checkpoint of size \(checkpoint.size)")
    }
  }
}
