import Foundation
import GRPCCore
import GRPCProtobuf
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// The first slice end to end: real listeners on loopback, real TLS with certificates made at
/// run time, a real SQLite file.
extension GatewayEndToEndTests {
  @Test("everything is still there after a restart on the same data directory")
  func survivesRestart() async throws {
    let directory = temporaryDirectory()
    let (registered, number) = try await withTestGateway(dataDirectory: directory) { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let registered = try await counter.registerPickup(samplePickup(requestID: "before-restart"))
        let number = registered.shipment.trackingNumber
        _ = try await counter.recordCollection(collectionRequest(number))
        return (registered, number)
      }
    }
    try await withTestGateway(dataDirectory: directory) { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let shipment = try await counter.getShipment(.with { $0.trackingNumber = number })
        #expect(shipment.state == .collected)
        #expect(shipment.events.map(\.type) == [.registered, .collected])
        // The idempotency record survived too, and the code re-derives identically.
        #expect(
          try await counter.registerPickup(samplePickup(requestID: "before-restart")) == registered
        )
        // A new pickup gets the next number: numbers are never reused.
        let next = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        #expect(next != number)
        #expect(
          try TrackingNumber(validating: next).serial == TrackingNumber(validating: number).serial
            + 1
        )
      }
      let tracked = try await gateway.withCitizenClient {
        try await $0.trackShipment(
          .with {
            $0.trackingNumber = number
            $0.verificationCode = registered.verificationCode
          }
        )
      }
      #expect(tracked.shipment.state == .collected)
    }
  }

  @Test("ListShipments filters and pages newest first; a token with other filters is refused")
  func listingPagesAndFilters() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        var numbers: [String] = []
        for _ in 0 ..< 5 {
          numbers.append(try await counter.registerPickup(samplePickup()).shipment.trackingNumber)
        }
        _ = try await counter.recordCollection(collectionRequest(numbers[1]))
        var other = samplePickup()
        other.pickup = .with { $0.counter = .with { $0.postOfficeCode = "251000" } }
        let elsewhere = try await counter.registerPickup(other).shipment.trackingNumber

        var seen: [String] = []
        var token = ""
        repeat {
          let page = try await counter.listShipments(
            .with {
              $0.pageSize = 2
              $0.pageToken = token
              $0.postOfficeCode = "250000"
            }
          )
          #expect(page.shipments.count <= 2)
          #expect(page.shipments.allSatisfy { $0.events.isEmpty })
          seen += page.shipments.map(\.trackingNumber)
          token = page.nextPageToken
        } while !token.isEmpty
        #expect(seen == numbers.reversed())
        #expect(!seen.contains(elsewhere))

        let collected = try await counter.listShipments(.with { $0.state = .collected })
        #expect(collected.shipments.map(\.trackingNumber) == [numbers[1]])

        let firstPage = try await counter.listShipments(.with { $0.pageSize = 1 })
        let mismatched = await rpcError {
          _ = try await counter.listShipments(
            .with {
              $0.pageSize = 1
              $0.pageToken = firstPage.nextPageToken
              $0.state = .requested
            }
          )
        }
        #expect(mismatched?.code == .invalidArgument)
        let tooBig = await rpcError {
          _ = try await counter.listShipments(.with { $0.pageSize = 501 })
        }
        #expect(tooBig?.code == .invalidArgument)
      }
    }
  }

  @Test("home pickups default to the caller's post office and validate their window")
  func homePickup() async throws {
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(self.pki.otherStaff) { counter in
        var request = samplePickup()
        request.pickup = .with {
          $0.home = .with {
            $0.address = request.applicant.address
            $0.window = .with {
              $0.start = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(3600))
              $0.end = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(3 * 3600))
            }
          }
        }
        let shipment = try await counter.registerPickup(request).shipment
        #expect(shipment.originPostOfficeCode == "251000")
        #expect(shipment.pickup.home.postOfficeCode == "251000")

        request.requestID = UUID().uuidString
        request.pickup.home.window.end = Google_Protobuf_Timestamp(
          date: Date().addingTimeInterval(-60)
        )
        let error = await rpcError { _ = try await counter.registerPickup(request) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.hasPrefix("pickup.home.window") == true)
      }
    }
  }

  @Test("logs never contain names, phones, citizen ids or addresses")
  func logsHoldNoPersonalData() async throws {
    let logs = LogCapture()
    try await withTestGateway(logs: logs) { gateway in
      try await gateway.withPartnerClient(self.pki.staff) { counter in
        let registered = try await counter.registerPickup(samplePickup())
        let number = registered.shipment.trackingNumber
        _ = try await counter.recordCollection(collectionRequest(number))
        _ = await rpcError {
          _ = try await counter.registerPickup(samplePickup(citizenID: "099084000123"))
        }
        _ = try await gateway.withCitizenClient {
          try await $0.trackShipment(
            .with {
              $0.trackingNumber = number
              $0.verificationCode = registered.verificationCode
            }
          )
        }
      }
    }
    let lines = logs.lines
    #expect(lines.contains { $0.contains("pickup registered") })
    for secret in [
      "019084000123", "099084000123", "Nguyễn", "Văn An", "912345678", "Lương Ngọc Quyến",
    ] {
      #expect(!lines.contains { $0.contains(secret) }, "a log line contains \(secret)")
    }
  }
}
