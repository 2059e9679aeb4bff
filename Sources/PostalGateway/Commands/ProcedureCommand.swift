import ArgumentParser
import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

/// `postal-gateway procedure show CODE`
struct ProcedureCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "procedure",
    abstract: "Look procedures up in the catalog (staff).",
    subcommands: [Show.self]
  )

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show a procedure and its document list."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Procedure code D.DDDDDD.") var code: String

    func run() async throws {
      let procedure = try await self.client.withPartnerClient { client in
        try await Postalgateway_V1_CounterService.Client(wrapping: client).getProcedure(
          .with { $0.procedureCode = self.code }
        )
      }
      try self.client.emit(procedure) {
        var lines = [
          "\(procedure.code)  \(procedure.name)",
          "\(procedure.processingWorkingDays) working day(s); fee \(procedure.feeVnd) VND"
            + (procedure.inPersonOnly ? "; in person only" : "")
            + (procedure.postalEligible ? "" : "; not by post"),
        ]
        for competence in procedure.competence {
          let level = competence.level == .commune ? "commune level" : "province level"
          lines.append("\(level): \(competence.authority) (\(competence.legalSource))")
          for agency in competence.agencies {
            let serves = agency.communeCode.isEmpty ? "" : "  serves commune \(agency.communeCode)"
            lines.append("  \(agency.code)  \(agency.name)\(serves)")
          }
        }
        for document in procedure.documents {
          let requirement =
            document.optional
            ? "  (optional)"
            : document.oneOfGroup.isEmpty ? "" : "  (one of \(document.oneOfGroup))"
          lines.append(
            "  \(document.id)  \(document.form) ×\(document.quantity)  \(document.name)\(requirement)"
          )
        }
        for rule in procedure.feeRules {
          let basis =
            switch rule.basis {
            case .perCopyVnd(let unit): "\(unit) VND per copy"
            case .perPage(let page):
              "\(page.firstPageVnd) VND per page of \(page.documentID), \(page.laterPageVnd) from page \(page.firstPages + 1)"
                + (page.capVnd > 0 ? ", at most \(page.capVnd) per paper" : "")
            case nil: "?"
            }
          lines.append("fee: \(rule.description_p): \(basis) (\(rule.legalSource))")
        }
        lines.append("catalog \(procedure.catalogVersion)")
        return lines.joined(separator: "\n")
      }
    }
  }
}
