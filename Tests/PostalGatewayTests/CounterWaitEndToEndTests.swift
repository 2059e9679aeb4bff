import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// Counter waits: queue tickets recorded by two post offices' clerks, aggregated by the service,
/// equal the figures computed here from the same tickets.
@Suite("Counter waits end to end")
struct CounterWaitEndToEndTests {
  typealias CounterClient = Postalgateway_V1_CounterService.Client<HTTP2ClientTransport.Posix>

  struct Sent {
    var office: String
    var issued: Timestamp
    var waitSeconds: Int64
  }

  static func ticket(
    _ number: String,
    issued: Timestamp,
    waitSeconds: Int64,
    trackingNumber: String = "",
    requestID: String = UUID().uuidString
  ) -> Postalgateway_V1_RecordQueueTicketRequest {
    .with {
      $0.requestID = requestID
      $0.ticketNumber = number
      $0.issuedAt = issued.proto
      $0.calledAt = issued.advanced(by: .seconds(waitSeconds)).proto
      $0.trackingNumber = trackingNumber
    }
  }

  /// Nearest rank: the smallest value whose rank is at least p × count.
  static func rank(_ sorted: [Int64], _ p: Double) -> Int64 {
    sorted[max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1)]
  }

  @Test(
    "waits per post office and per hour equal those of the recorded tickets; the 15-minute share counts"
  )
  func waitsMatchTheRecordedTickets() async throws {
    let now = SystemWallClock().now()
    var generator = SystemRandomNumberGenerator()
    var sent: [Sent] = []
    try await withTestGateway { gateway in
      for (credential, office) in [
        (TestPKI.shared.staff, "250000"), (TestPKI.shared.otherStaff, "251000"),
      ] {
        try await gateway.withPartnerClient(credential) { counter in
          for index in 0 ..< 40 {
            // Spread over the last six days; some waits past the 15 minutes, one exactly at it.
            let issued = now.advanced(
              by: .seconds(-Int64.random(in: 3600 ... 6 * 86_400, using: &generator))
            )
            let wait = index == 0 ? 900 : Int64.random(in: 0 ... 2400, using: &generator)
            let response = try await counter.recordQueueTicket(
              Self.ticket("A-\(index)", issued: issued, waitSeconds: wait)
            )
            #expect(response.created)
            #expect(response.waitSeconds == wait)
            sent.append(Sent(office: office, issued: issued, waitSeconds: wait))
          }
        }
      }
      let from = now.advanced(by: .seconds(-7 * 86_400)).dateInVietnam
      let to = now.dateInVietnam
      func report(
        _ grouping: Postalgateway_V1_CounterWaitGrouping
      ) async throws
        -> Postalgateway_V1_CounterWaitReport
      {
        try await SlaEndToEndTests().asOversight(gateway) {
          try await $0.getCounterWaits(
            .with {
              $0.fromDate = from.description
              $0.toDate = to.description
              $0.groupBy = grouping
            }
          )
        }
      }
      let byOffice = try await report(.postOffice)
      #expect(byOffice.targetMinutes == 15)
      #expect(byOffice.legalSource.contains("103/KH-UBND"))
      #expect(byOffice.rows.map(\.key) == ["250000", "251000"])
      for row in byOffice.rows {
        let waits = sent.filter { $0.office == row.key }.map(\.waitSeconds).sorted()
        #expect(row.tickets == Int32(waits.count))
        let mean = Double(waits.reduce(0, +)) / Double(waits.count) / 60
        #expect(abs(row.meanWaitMinutes - mean) < 1e-9)
        #expect(row.medianWaitMinutes == Double(Self.rank(waits, 0.5)) / 60)
        #expect(row.p90WaitMinutes == Double(Self.rank(waits, 0.9)) / 60)
        #expect(row.longestWaitMinutes == Double(waits.last!) / 60)
        #expect(row.withinTarget == Int32(waits.filter { $0 <= 900 }.count))
      }
      let byHour = try await report(.hourOfDay)
      var perHour: [String: Int] = [:]
      for ticket in sent {
        let hour = (ticket.issued.seconds + 7 * 3600) % 86_400 / 3600
        perHour[hour < 10 ? "0\(hour)" : "\(hour)", default: 0] += 1
      }
      #expect(
        Dictionary(uniqueKeysWithValues: byHour.rows.map { ($0.key, Int($0.tickets)) }) == perHour
      )
      // A period before them holds none.
      let earlier = try await SlaEndToEndTests().asOversight(gateway) {
        try await $0.getCounterWaits(
          .with {
            $0.fromDate = from.adding(days: -30).description
            $0.toDate = from.adding(days: -1).description
            $0.groupBy = .postOffice
          }
        )
      }
      #expect(earlier.rows.isEmpty)
    }
  }

  @Test(
    "a ticket is kept once: a retry answers again, a reused id or other times are ALREADY_EXISTS, bad fields are named"
  )
  func ticketsAreKeptOnceAndValidated() async throws {
    let now = SystemWallClock().now()
    try await withTestGateway { gateway in
      try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
        let number = try await counter.registerPickup(samplePickup()).shipment.trackingNumber
        let issued = now.advanced(by: .seconds(-1800))
        let first = Self.ticket("B-001", issued: issued, waitSeconds: 600, trackingNumber: number)
        #expect(try await counter.recordQueueTicket(first).created)
        let retry = try await counter.recordQueueTicket(first)
        #expect(!retry.created)
        #expect(retry.waitSeconds == 600)

        var reused = first
        reused.ticketNumber = "B-002"
        #expect(
          await rpcError { _ = try await counter.recordQueueTicket(reused) }?.code == .alreadyExists
        )
        let otherTimes = Self.ticket("B-001", issued: issued, waitSeconds: 700)
        #expect(
          await rpcError { _ = try await counter.recordQueueTicket(otherTimes) }?.code
            == .alreadyExists
        )

        func refused(_ request: Postalgateway_V1_RecordQueueTicketRequest) async -> RPCError? {
          await rpcError { _ = try await counter.recordQueueTicket(request) }
        }
        var before = Self.ticket("B-003", issued: issued, waitSeconds: 60)
        before.calledAt = issued.advanced(by: .seconds(-60)).proto
        let reversed = await refused(before)
        #expect(reversed?.code == .invalidArgument)
        #expect(reversed?.message.contains("called_at") == true)
        let old = await refused(
          Self.ticket("B-004", issued: now.advanced(by: .seconds(-8 * 86_400)), waitSeconds: 60)
        )
        #expect(old?.message.contains("issued_at") == true)
        let future = await refused(
          Self.ticket("B-005", issued: now.advanced(by: .seconds(3600)), waitSeconds: 60)
        )
        #expect(future?.message.contains("called_at") == true)
        let long = await refused(
          Self.ticket(
            "B-006",
            issued: now.advanced(by: .seconds(-13 * 3600)),
            waitSeconds: 13 * 3600 - 10
          )
        )
        #expect(long?.message.contains("called_at") == true)
        let badNumber = await refused(Self.ticket("b 7", issued: issued, waitSeconds: 60))
        #expect(badNumber?.message.contains("ticket_number") == true)
        var missing = Self.ticket("B-008", issued: issued, waitSeconds: 60)
        missing.clearIssuedAt()
        #expect(await refused(missing)?.message.contains("issued_at") == true)
        let unknown = await refused(
          Self.ticket("B-009", issued: issued, waitSeconds: 60, trackingNumber: "EA000000080VN")
        )
        #expect(unknown?.code == .notFound)

        // Only the first ticket was kept.
        let report = try await SlaEndToEndTests().asOversight(gateway) {
          try await $0.getCounterWaits(
            .with {
              $0.fromDate = now.advanced(by: .seconds(-86_400)).dateInVietnam.description
              $0.toDate = now.dateInVietnam.description
              $0.groupBy = .postOffice
            }
          )
        }
        #expect(report.rows.map(\.tickets) == [1])
        #expect(report.rows.first?.meanWaitMinutes == 10)
        let noGrouping = await rpcError {
          _ = try await SlaEndToEndTests().asOversight(gateway) {
            try await $0.getCounterWaits(
              .with {
                $0.fromDate = "2026-01-01"
                $0.toDate = "2026-01-31"
              }
            )
          }
        }
        #expect(noGrouping?.message.contains("group_by") == true)
      }
    }
  }
}

@Suite("Spreadsheet export")
struct CSVTableTests {
  @Test("a CSV starts with the UTF-8 byte-order mark, keeps diacritics, quotes commas and quotes")
  func csvKeepsVietnameseAndQuotes() throws {
    let table = CSVTable(
      header: ["Bưu cục", "Ghi chú"],
      rows: [["250000", "Phường Phan Đình Phùng, \"trung tâm\""], ["251000", "dòng 1\ndòng 2"]]
    )
    let bytes = [UInt8](table.data)
    #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
    let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
    #expect(
      text
        == "Bưu cục,Ghi chú\r\n250000,\"Phường Phan Đình Phùng, \"\"trung tâm\"\"\"\r\n251000,\"dòng 1\ndòng 2\"\r\n"
    )
    #expect(CSVTable.number(12.345) == "12.35")
  }
}
