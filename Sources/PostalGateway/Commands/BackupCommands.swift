import ArgumentParser
import Foundation
import Tracking

/// The configuration of the gateway an operator command works on: the same file and flags as
/// `serve`.
struct ServerConfigurationOptions: ParsableArguments {
  @Option(help: "The gateway's JSON configuration file.") var config: String?
  @Option(help: "Data directory (overrides the file). Default ./postal-data.") var dataDir: String?
  @Option(help: "SPIFFE trust domain (names the log). Default postal-gateway.local.")
  var trustDomain: String?

  func load() throws -> GatewayConfiguration {
    var configuration = GatewayConfiguration()
    if let config { try configuration.apply(file: config) }
    if let dataDir { configuration.dataDirectory = dataDir }
    if let trustDomain { configuration.trustDomain = trustDomain }
    try configuration.validate()
    return configuration
  }
}

/// `postal-gateway backup <folder>`
struct BackupCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "backup",
    abstract: "Take a consistent backup of the data directory while the gateway serves.",
    discussion: """
      Writes the database (one committed snapshot), the scans, the secrets and keys, and the \
      configuration files into a new folder, with backup.json listing the SHA-256 of every \
      file. The backup holds the custody signing key and the verification-code secret: keep \
      it as safely as the server.
      """
  )
  @Argument(help: "A new (or empty) folder.") var folder: String
  @OptionGroup var server: ServerConfigurationOptions

  func run() async throws {
    let configuration = try self.server.load()
    let manifest = try await BackupTaker(
      configuration: configuration,
      configurationFile: self.server.config
    ).take(into: self.folder, now: SystemWallClock().now())
    print(
      "backup \(self.folder): \(manifest.shipments) shipments, \(manifest.events) events, "
        + "custody log \(manifest.treeSize) leaves, \(manifest.files.count) files, taken at \(manifest.takenAt)"
    )
  }
}

/// `postal-gateway restore <backup> --data-dir <new>`
struct RestoreCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "restore",
    abstract:
      "Restore a backup into a new data directory: check the manifest, run log fsck, and check the log against the last signed checkpoint."
  )
  @Argument(help: "The backup folder.") var backup: String
  @OptionGroup var server: ServerConfigurationOptions
  @Option(
    help:
      "A checkpoint kept outside the backup (custody checkpoint --out): the restored log must contain it."
  )
  var checkpoint: String?

  func run() async throws {
    let configuration = try self.server.load()
    do {
      let report = try await BackupRestorer(
        backup: self.backup,
        configuration: configuration,
        laterCheckpoint: self.checkpoint
      ).restore()
      print(
        "restored \(report.files) files into \(configuration.dataDirectory): "
          + "\(report.manifest.shipments) shipments, \(report.manifest.events) events, \(report.scans) scans"
      )
      print(
        "log OK: \(report.audit.leaves) leaves and \(report.audit.checkpoints) checkpoints, every node verified"
      )
      if let size = report.checkedAgainst {
        print("consistent with the checkpoint of size \(size)")
      }
    } catch let failure as BackupRestorer.Failure {
      print("RESTORE FAILED: \(failure.description); nothing was written")
      throw ExitCode(1)
    }
  }
}
