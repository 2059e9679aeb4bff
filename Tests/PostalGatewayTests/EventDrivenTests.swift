import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// Background work and streams wait on commits, not on timers: with the gateway's clock frozen,
/// a handoff still reaches an open pull stream and an alert still reaches an open watch.
@Suite("Event-driven streams")
struct EventDrivenTests {
  let handoffs = HandoffEndToEndTests()

  @Test("a handoff queued while an agency's pull stream is open reaches it with the clock frozen")
  func pullStreamWakesOnCommit() async throws {
    let clock = TestClock("2026-03-02T09:00:00+07:00")
    let directory = temporaryDirectory()
    let routes = try HandoffPKI.shared.routesFile(mode: .pull, port: 0, in: directory)
    try await withTestGateway(dataDirectory: directory, clock: clock) {
      $0.handoffs.routesFile = routes
    } _: { gateway in
      try await self.handoffs.asAgency(gateway) { agency in
        try await agency.watchHandoffs(.with { $0.afterCursor = 0 }) { response in
          var messages = response.messages.makeAsyncIterator()
          // The stream is open and idle: nothing is queued yet. Queue one now.
          let started = ContinuousClock.now
          let (number, _) = try await self.handoffs.digitizedDossier(on: gateway)
          let notice = try #require(try await messages.next())
          let delay = started.duration(to: .now)
          #expect(notice.dossier.handoffID == "\(number)-H1")
          // No polling interval: the wall clock the gateway sees never moved.
          #expect(clock.now() == TestClock.parse("2026-03-02T09:00:00+07:00"))
          print("pull stream: handoff delivered \(delay) after the registration began")
        }
      }
    }
  }
}
