import ArgumentParser
import Foundation
import Proto
import SwiftProtobuf

/// `postal-gateway encryption`
struct EncryptionCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "encryption",
    abstract: "The keys personal data is sealed under (operator).",
    subcommands: [Status.self, Rotate.self, RotateDataKeys.self]
  )

  struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The active key-encryption key, the keys held, and the data keys under each."
    )
    @OptionGroup var client: ClientOptions

    func run() async throws {
      let status = try await self.client.withPartnerClient(as: "operator") { client in
        try await Postalgateway_V1_OperatorService.Client(wrapping: client).getEncryptionStatus(
          .init()
        )
      }
      EncryptionCommand.print(status)
    }
  }

  struct Rotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Make a new key-encryption key active; the data keys are rewrapped in the background and the old key retired."
    )
    @OptionGroup var client: ClientOptions

    func run() async throws {
      let status = try await self.client.withPartnerClient(as: "operator") { client in
        try await Postalgateway_V1_OperatorService.Client(wrapping: client)
          .rotateKeyEncryptionKey(.init())
      }
      EncryptionCommand.print(status)
    }
  }

  struct RotateDataKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "rotate-data-keys",
      abstract:
        "Seal personal data again under new data keys, in the background; the old data keys are destroyed."
    )
    @OptionGroup var client: ClientOptions
    @Option(help: "Only data keys older than this many days (0: every key made before now).")
    var olderThanDays: Int32 = 0

    func run() async throws {
      let status = try await self.client.withPartnerClient(as: "operator") { client in
        try await Postalgateway_V1_OperatorService.Client(wrapping: client)
          .rotateDataKeys(.with { $0.olderThanDays = self.olderThanDays })
      }
      EncryptionCommand.print(status)
    }
  }

  static func print(_ status: Postalgateway_V1_EncryptionStatus) {
    Swift.print("active key-encryption key: \(status.activeKeyID)")
    Swift.print("keys held: \(status.keyIds.joined(separator: ", "))")
    for (id, count) in status.dataKeys.sorted(by: { $0.key < $1.key }) {
      Swift.print("data keys under \(id): \(count)")
    }
    Swift.print(status.rewrapping ? "rewrapping: yes" : "rewrapping: no")
    Swift.print("data keys to replace: \(status.dataKeysToReplace)")
    fflush(nil)
  }
}

extension PersonCommand {
  struct Erase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Erase a final shipment's personal data on a lawful request, before its retention ends (operator certificate; custody-logged without the data)."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(help: "Request id (a retry with the same id is safe).") var requestID = UUID()
      .uuidString

    func run() async throws {
      let response = try await self.client.withPartnerClient(as: "operator") { client in
        try await Postalgateway_V1_OperatorService.Client(wrapping: client).erasePersonalData(
          .with {
            $0.requestID = self.requestID
            $0.trackingNumber = self.trackingNumber
          }
        )
      }
      print(
        "\(self.trackingNumber): personal data erased (event \(response.event.sequence), \(response.scansErased) scan file(s) removed)"
      )
      fflush(nil)
    }
  }
}

extension PersonCommand {
  struct Correct: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Correct the applicant's personal data at the data subject's request: give every field as it should be (operator certificate; custody-logged, naming the fields changed)."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @OptionGroup var applicant: ApplicantOptions
    @Option(help: "Why: the request's reference.") var reason: String
    @Option(help: "Request id (a retry with the same id is safe).") var requestID = UUID()
      .uuidString

    func run() async throws {
      let response = try await self.client.withPartnerClient(as: "operator") { client in
        try await Postalgateway_V1_OperatorService.Client(wrapping: client).correctPersonalData(
          .with {
            $0.requestID = self.requestID
            $0.trackingNumber = self.trackingNumber
            $0.applicant = self.applicant.wire
            $0.reason = self.reason
          }
        )
      }
      let fields = response.event.personalDataCorrection.fields.joined(separator: ", ")
      print(
        "\(self.trackingNumber): personal data corrected (event \(response.event.sequence): \(fields))"
      )
      fflush(nil)
    }
  }
}
