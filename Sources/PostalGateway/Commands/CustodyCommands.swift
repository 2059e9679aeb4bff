import ArgumentParser
import Crypto
import Foundation
import GRPCCore
import Persistence
import PostgresStorage
import Proto
import SwiftProtobuf
import Tracking

/// A device's Ed25519 key for co-signing handovers, kept in a file as base64 of its 32-byte seed.
struct DeviceKeyFile {
  let key: Curve25519.Signing.PrivateKey

  init(path: String) throws {
    guard let data = FileManager.default.contents(atPath: path),
      let seed = Base64.decode(
        String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      ),
      let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    else {
      throw ValidationError("\(path) is not a device key file (base64 of a 32-byte Ed25519 seed)")
    }
    self.key = key
  }

  /// The key id the service gives this key.
  var keyID: String {
    get throws {
      try SigningKey(owner: "-", publicKey: Array(self.key.publicKey.rawRepresentation)).keyID
    }
  }

  func sign(_ statement: [UInt8]) throws -> Postalgateway_V1_PartySignature {
    let signature = try self.key.signature(for: statement)
    let keyID = try self.keyID
    return .with {
      $0.keyID = keyID
      $0.signature = Data(signature)
    }
  }
}

/// `postal-gateway keys generate|register`
struct KeysCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "keys",
    abstract: "Device keys for co-signed handovers (staff, agency).",
    subcommands: [Generate.self, Register.self]
  )

  struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a device key file (mode 0600)."
    )
    @Option(help: "Where to write it.") var out: String

    func run() throws {
      let key = Curve25519.Signing.PrivateKey()
      try DataDirectory.writeSecret(
        Data((Base64.encode(key.rawRepresentation) + "\n").utf8),
        to: self.out
      )
      let keyID = try SigningKey(owner: "-", publicKey: Array(key.publicKey.rawRepresentation))
        .keyID
      print(
        "\(self.out): key id \(keyID), public key \(Base64.encode(key.publicKey.rawRepresentation))"
      )
    }
  }

  struct Register: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Register a device key's public half for the identity of --cert."
    )
    @OptionGroup var client: ClientOptions
    @Option(help: "The device key file (from keys generate).") var deviceKey: String

    func run() async throws {
      let device = try DeviceKeyFile(path: self.deviceKey)
      let registered = try await self.client.withPartnerClient { client in
        try await Postalgateway_V1_SigningKeyService.Client(wrapping: client).registerSigningKey(
          .with { $0.publicKey = device.key.publicKey.rawRepresentation }
        )
      }
      try self.client.emit(registered) {
        "registered key \(registered.keyID) for \(registered.owner)"
      }
    }
  }
}

/// Signs a handover statement for the CLI when it holds both parties' device keys (a counter
/// where the agency's officer signs on the same screen).
struct HandoverSigning: ParsableArguments {
  @Option(help: "The agency's SPIFFE ID (receiver of a dossier, giver of a result).")
  var counterparty: String?
  @Option(help: "The giver's device key file.") var giverKey: String?
  @Option(help: "The receiver's device key file.") var receiverKey: String?

  var isRequested: Bool {
    self.counterparty != nil || self.giverKey != nil || self.receiverKey != nil
  }

  /// Builds the statement from the shipment as the service sees it, and signs it with both keys.
  func handover(
    for shipment: Postalgateway_V1_Shipment,
    kind: EventKind,
    caller: String,
    occurredAt: Timestamp,
    resultSeal: String?
  ) throws -> Postalgateway_V1_Handover {
    guard let counterparty, let giverKey, let receiverKey else {
      throw ValidationError("a handover needs --counterparty, --giver-key and --receiver-key")
    }
    let (giver, receiver) =
      kind == .handedToAgency ? (caller, counterparty) : (counterparty, caller)
    let number = try TrackingNumber(validating: shipment.trackingNumber)
    let seal =
      kind.isCollectionAtAgency
      ? resultSeal : (shipment.currentSealID.isEmpty ? nil : shipment.currentSealID)
    let scans =
      kind == .handedToAgency
      ? shipment.events.filter { !$0.voided && $0.scan.sha256 != "" }.map(\.scan.sha256) : []
    let statement = HandoverStatement.bytes(
      trackingNumber: number,
      kind: kind,
      giver: giver,
      receiver: receiver,
      occurredAt: occurredAt,
      sealID: seal,
      scans: scans
    )
    let giverSignature = try DeviceKeyFile(path: giverKey).sign(statement)
    let receiverSignature = try DeviceKeyFile(path: receiverKey).sign(statement)
    return .with {
      $0.counterparty = counterparty
      $0.giverSignature = giverSignature
      $0.receiverSignature = receiverSignature
    }
  }
}

/// `postal-gateway custody checkpoint|receipt`
struct CustodyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "custody",
    abstract: "The public custody log (public listener).",
    subcommands: [CheckpointCommand.self, ReceiptCommand.self]
  )

  struct CheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "checkpoint",
      abstract: "Print the latest signed checkpoint (or write it with --out)."
    )
    @OptionGroup var client: ClientOptions
    @Option(help: "Write the signed note to this file.") var out: String?

    func run() async throws {
      let checkpoint = try await self.client.withPublicClient(plaintext: false) { client in
        try await Postalgateway_V1_CustodyService.Client(wrapping: client).getCheckpoint(.init())
      }
      if let out { try Data(checkpoint.note.utf8).write(to: URL(fileURLWithPath: out)) }
      try self.client.emit(checkpoint) { checkpoint.note }
    }
  }

  struct ReceiptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "receipt",
      abstract: "Fetch a shipment's receipt (JSON) as its citizen."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(help: "Verification code.") var code: String
    @Option(help: "Where to write the receipt.") var out: String

    func run() async throws {
      let receipt = try await self.client.withPublicClient(plaintext: false) { client in
        try await Postalgateway_V1_CustodyService.Client(wrapping: client).getReceipt(
          .with {
            $0.trackingNumber = self.trackingNumber
            $0.verificationCode = self.code
          }
        )
      }
      var options = JSONEncodingOptions()
      options.preserveProtoFieldNames = true
      try Data(try receipt.jsonString(options: options).utf8).write(
        to: URL(fileURLWithPath: self.out)
      )
      print(
        "\(self.out): \(receipt.entries.count) entries, checkpoint of size \(try Checkpoint(text: noteText(receipt.checkpoint)).size)"
      )
    }
  }
}

/// The text part of a signed note (without checking it).
func noteText(_ note: String) -> String {
  (note.components(separatedBy: "\n\n").first ?? "") + "\n"
}

/// `postal-gateway verify receipt|consistency`
struct VerifyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Check receipts and checkpoints offline.",
    subcommands: [Receipt.self, Consistency.self]
  )

  struct Receipt: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Check a receipt: the checkpoint's signature, every inclusion proof, the shipment's entries."
    )
    @Argument(help: "The receipt (JSON).") var file: String
    @Option(help: "The log's verifier key (postal-gateway log key).") var key: String

    func run() throws {
      guard let data = FileManager.default.contents(atPath: self.file) else {
        throw ValidationError("cannot read \(self.file)")
      }
      let receipt = try Postalgateway_V1_Receipt(jsonUTF8Data: data)
      let report = try ReceiptVerifier.verify(receipt, verifierKey: self.key)
      print(report)
    }
  }

  struct Consistency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Check that checkpoint NEW extends checkpoint OLD (both signed notes), with a proof from the log."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "The older checkpoint note file.") var old: String
    @Argument(help: "The newer checkpoint note file.") var new: String
    @Option(help: "The log's verifier key (postal-gateway log key).") var logKey: String

    func run() async throws {
      let verifier = try NoteVerifier(self.logKey)
      func load(_ path: String) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else {
          throw ValidationError("cannot read \(path)")
        }
        return try Checkpoint(text: try verifier.open(String(decoding: data, as: UTF8.self)))
      }
      let first = try load(self.old)
      let second = try load(self.new)
      guard first.origin == second.origin else {
        throw ValidationError("the checkpoints are of different logs")
      }
      let proof: [[UInt8]] =
        first.size == second.size
        ? []
        : try await self.client.withPublicClient(plaintext: false) { client in
          try await Postalgateway_V1_CustodyService.Client(wrapping: client).getConsistencyProof(
            .with {
              $0.firstSize = first.size
              $0.secondSize = second.size
            }
          ).hashes.map { Array($0) }
        }
      try MerkleVerifier.verifyConsistency(
        size1: first.size,
        size2: second.size,
        proof: proof,
        root1: first.root,
        root2: second.root
      )
      print("consistent: \(first.origin) size \(first.size) → \(second.size)")
    }
  }
}

/// Checks a receipt offline.
enum ReceiptVerifier {
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// Verifies the signature, every inclusion proof and that every entry is the shipment's.
  /// - Returns: A short report.
  static func verify(_ receipt: Postalgateway_V1_Receipt, verifierKey: String) throws -> String {
    guard receipt.format == "postalgateway-receipt-v1" else {
      throw Failure(description: "unknown receipt format")
    }
    let text = try NoteVerifier(verifierKey).open(receipt.checkpoint)
    let checkpoint = try Checkpoint(text: text)
    let number = try TrackingNumber(validating: receipt.trackingNumber)
    let commitment = CustodyEntry.shipmentCommitment(number, salt: Array(receipt.shipmentSalt))
    var sequences: [Int] = []
    for entry in receipt.entries {
      let data = Array(entry.data)
      do {
        try MerkleVerifier.verifyInclusion(
          index: entry.leafIndex,
          size: checkpoint.size,
          leafHash: RFC6962.leafHash(data),
          proof: entry.inclusionProof.map { Array($0) },
          root: checkpoint.root
        )
      } catch {
        throw Failure(description: "entry at leaf \(entry.leafIndex): \(error)")
      }
      guard let fields = CustodyEntry.fields(data),
        fields.first(where: { $0.0 == "shipment" })?.1 == commitment,
        let sequence = fields.first(where: { $0.0 == "sequence" }).flatMap({ Int($0.1) })
      else { throw Failure(description: "entry at leaf \(entry.leafIndex) is not this shipment's") }
      sequences.append(sequence)
    }
    guard sequences == Array(1 ... max(1, sequences.count)) || sequences.isEmpty else {
      throw Failure(
        description: "the receipt's entries are not the shipment's whole history in order"
      )
    }
    return
      "receipt OK: \(receipt.entries.count) entries of \(receipt.trackingNumber) in \(checkpoint.origin) at size \(checkpoint.size)"
  }
}

/// `postal-gateway log fsck|key`
struct LogCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "log",
    abstract: "Operate the custody log (on the data directory).",
    subcommands: [Fsck.self, Key.self]
  )

  struct Fsck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Recompute every stored node from the leaves and check every checkpoint; report the first mismatch."
    )
    @Option(help: "Data directory. Default ./postal-data.") var dataDir = "./postal-data"
    @Option(help: "SPIFFE trust domain (names the log). Default postal-gateway.local.")
    var trustDomain = "postal-gateway.local"
    @Option(
      help:
        "Check the log in this PostgreSQL database (postgres://…; or $POSTAL_GATEWAY_DATABASE_URL) instead of the data directory's SQLite file. The signing key is still read from the data directory."
    )
    var databaseURL: String?

    func run() async throws {
      var configuration = GatewayConfiguration()
      configuration.dataDirectory = self.dataDir
      configuration.trustDomain = self.trustDomain
      let signer = try DataDirectory(configuration: configuration).custodySigner(
        origin: configuration.custodyOrigin,
        path: configuration.custodyKeyFile
      )
      let verifier = try NoteVerifier(signer.verifierKey)
      let finding: CustodyLogAudit.Finding
      if let url = self.databaseURL
        ?? ProcessInfo.processInfo.environment["POSTAL_GATEWAY_DATABASE_URL"]
      {
        let pool = try await PostgresStorage.connect(
          try PostgresLocation(url: url),
          maximumConnections: 2,
          migrate: false
        )
        defer { pool.close() }
        finding = try await CustodyLogAudit(
          store: PostgresCustodyStore(pool: pool),
          verifier: verifier
        )
        .run()
      } else {
        finding = try await CustodyLogAudit(
          store: try SQLiteStorage.openCustodyLog(path: configuration.databasePath),
          verifier: verifier
        ).run()
      }
      if let problem = finding.problem {
        print("MISMATCH: \(problem)")
        throw ExitCode(1)
      }
      print(
        "log OK: \(finding.leaves) leaves and \(finding.checkpoints) checkpoints, every node verified"
      )
    }
  }

  struct Key: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print the log's verifier key (C2SP note format)."
    )
    @Option(help: "Data directory. Default ./postal-data.") var dataDir = "./postal-data"
    @Option(help: "SPIFFE trust domain (names the log). Default postal-gateway.local.")
    var trustDomain = "postal-gateway.local"

    func run() throws {
      var configuration = GatewayConfiguration()
      configuration.dataDirectory = self.dataDir
      configuration.trustDomain = self.trustDomain
      try DataDirectory(configuration: configuration).prepare()
      let signer = try DataDirectory(configuration: configuration).custodySigner(
        origin: configuration.custodyOrigin,
        path: configuration.custodyKeyFile
      )
      print(signer.verifierKey)
    }
  }
}
