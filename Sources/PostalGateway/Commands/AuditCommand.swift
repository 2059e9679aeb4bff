import ArgumentParser
import Foundation
import GRPCCore
import Proto
import SwiftProtobuf

/// `postal-gateway audit list`
struct AuditCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Reads of unmasked personal data (oversight).",
    subcommands: [List.self]
  )

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Who read which shipment's personal data, when, what and why, newest first (oversight certificate)."
    )
    @OptionGroup var client: ClientOptions
    @Option(help: "Only reads of this shipment.") var trackingNumber: String?
    @Option(help: "Only reads by this caller (a SPIFFE ID).") var actor: String?
    @Option(help: "Page size (1–500).") var pageSize: Int32 = 50
    @Option(help: "Token from the previous page.") var pageToken: String?

    func run() async throws {
      let response = try await self.client.withPartnerClient(as: "oversight") { client in
        try await Postalgateway_V1_OversightService.Client(wrapping: client).listAccessRecords(
          .with {
            $0.trackingNumber = self.trackingNumber ?? ""
            $0.actor = self.actor ?? ""
            $0.pageSize = self.pageSize
            $0.pageToken = self.pageToken ?? ""
          }
        )
      }
      try self.client.emit(response) {
        var lines = response.records.map { record in
          let read = "\(record.read)".uppercased()
          let scan = record.documentCode.isEmpty ? "" : " \(record.documentCode)"
          let purpose = record.purpose.isEmpty ? "(no purpose given)" : record.purpose
          return
            "#\(record.sequence)  \(vietnamTime(timestamp(record.at)))  \(record.actor)  \(record.trackingNumber)  \(read)\(scan)  \(purpose)"
        }
        if !response.nextPageToken.isEmpty {
          lines.append("next page: --page-token \(response.nextPageToken)")
        }
        return lines.isEmpty ? "no reads recorded" : lines.joined(separator: "\n")
      }
    }
  }
}
