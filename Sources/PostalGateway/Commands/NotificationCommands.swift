import ArgumentParser
import Foundation
import Proto
import SwiftProtobuf
import Tracking

/// A notification channel as the command line names it.
enum NotificationChoice: String, ExpressibleByArgument, CaseIterable {
  case sms, zalo, none

  var channel: NotificationChannel {
    switch self {
    case .sms: .sms
    case .zalo: .zalo
    case .none: .none
    }
  }
}

/// `postal-gateway notify set`: staff record the citizen's choice of notification channel.
struct NotifyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "notify",
    abstract: "Staff: record how the citizen wants to be told about the dossier.",
    subcommands: [Set.self]
  )

  struct Set: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Record the citizen's choice (sms, zalo or none) at their request."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Tracking number.") var trackingNumber: String
    @Option(help: "sms, zalo or none.") var channel: NotificationChoice

    func run() async throws {
      let consent = try await self.client.withPartnerClient(as: "staff") { client in
        try await Postalgateway_V1_CounterService.Client(wrapping: client).setNotificationChannel(
          .with {
            $0.trackingNumber = self.trackingNumber
            $0.channel = self.channel.channel.proto
          }
        )
      }
      try self.client.emit(consent) {
        "\(self.trackingNumber): notifications \(wireName(consent.channel)) (\(consent.changedBy))"
      }
    }
  }
}

/// `postal-gateway notifications`: the operator's view of the notification outbox.
struct NotificationsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "notifications",
    abstract: "Operator: the notification outbox per destination, its messages and dead letters.",
    subcommands: [Status.self, List.self, Retry.self]
  )

  struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Per destination: waiting, retrying, dead, sent, the last error."
    )
    @OptionGroup var client: ClientOptions

    func run() async throws {
      let summary = try await self.client.withPartnerClient(as: "operator") { client in
        try await Postalgateway_V1_OperatorService.Client(wrapping: client)
          .getNotificationSummary(.init())
      }
      try self.client.emit(summary) {
        guard !summary.destinations.isEmpty else { return "no messages" }
        return summary.destinations.map { d in
          let name = wireName(d.destination) + (d.subscription.isEmpty ? "" : " \(d.subscription)")
          return
            "\(name)  pending \(d.pending) (retrying \(d.retrying))  dead \(d.dead)  sent \(d.sent)  cancelled \(d.cancelled)"
            + (d.lastError.isEmpty ? "" : "\n  last error: \(d.lastError)")
        }.joined(separator: "\n")
      }
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Messages, newest first.")
    @OptionGroup var client: ClientOptions
    @Option(help: "Only pending, sent, dead or cancelled.") var status: String?
    @Option(help: "Only sms, zalo or webhook.") var destination: String?
    @Option(help: "Only this shipment's.") var trackingNumber: String?
    @Option(help: "At most this many.") var limit: Int32 = 100

    func run() async throws {
      var request = Postalgateway_V1_ListNotificationsRequest()
      request.limit = self.limit
      request.trackingNumber = self.trackingNumber ?? ""
      if let status = self.status {
        guard let parsed = NotificationStatus(rawValue: status.uppercased()) else {
          throw ValidationError("--status must be pending, sent, dead or cancelled")
        }
        request.status = parsed.proto
      }
      if let destination = self.destination {
        switch destination.lowercased() {
        case "sms": request.destination = .sms
        case "zalo": request.destination = .zalo
        case "webhook": request.destination = .webhook
        default: throw ValidationError("--destination must be sms, zalo or webhook")
        }
      }
      let response = try await self.client.withPartnerClient(as: "operator") { client in
        try await Postalgateway_V1_OperatorService.Client(wrapping: client).listNotifications(
          request
        )
      }
      try self.client.emit(response) {
        guard !response.notifications.isEmpty else { return "no messages" }
        return response.notifications.map {
          "\($0.messageID)  \(wireName($0.kind))  \(wireName($0.status))  attempts \($0.attempts)"
            + ($0.lastError.isEmpty ? "" : "  last error: \($0.lastError)")
        }.joined(separator: "\n")
      }
    }
  }

  struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Put a dead-lettered message back in the queue (it keeps its message id)."
    )
    @OptionGroup var client: ClientOptions
    @Argument(help: "Message id.") var messageID: String

    func run() async throws {
      let message = try await self.client.withPartnerClient(as: "operator") { client in
        try await Postalgateway_V1_OperatorService.Client(wrapping: client).retryNotification(
          .with { $0.messageID = self.messageID }
        )
      }
      try self.client.emit(message) {
        "\(message.messageID): \(wireName(message.status)), attempts reset"
      }
    }
  }
}

func wireName(_ channel: Postalgateway_V1_NotificationChannel) -> String {
  (try? NotificationChannel(channel))?.rawValue ?? "NONE"
}

func wireName(_ kind: Postalgateway_V1_NotificationKind) -> String {
  NotificationKind.allCases.first { $0.proto == kind }?.rawValue ?? "UNSPECIFIED"
}

func wireName(_ status: Postalgateway_V1_NotificationStatus) -> String {
  NotificationStatus(status)?.rawValue ?? "UNSPECIFIED"
}

func wireName(_ destination: Postalgateway_V1_NotificationDestination) -> String {
  NotificationDestination.channelName(destination) ?? "UNSPECIFIED"
}
