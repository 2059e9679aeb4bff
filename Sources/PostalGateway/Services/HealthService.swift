import GRPCCore
import Proto
import SwiftProtobuf
import Synchronization

/// The serving status of one listener's services, for `grpc.health.v1.Health`.
///
/// `""` stands for the whole listener. At shutdown everything turns `NOT_SERVING` and open
/// `Watch` streams end, so that they do not hold the graceful shutdown up.
final class HealthStatus: Sendable {
  typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus

  private struct State {
    var statuses: [String: Status]
    var watchers: [Int: (service: String, continuation: AsyncStream<Status>.Continuation)] = [:]
    var nextWatcher = 0
    var finished = false
  }

  private let state: Mutex<State>

  /// Creates the status of a listener serving these services (all `SERVING`).
  init(services: [String]) {
    var statuses: [String: Status] = ["": .serving]
    for service in services { statuses[service] = .serving }
    self.state = Mutex(State(statuses: statuses))
  }

  /// The status of a service, or `nil` if this listener does not serve it.
  func status(of service: String) -> Status? {
    self.state.withLock { $0.statuses[service] }
  }

  /// Marks every service `NOT_SERVING` and ends every watch.
  func shutDown() {
    let continuations = self.state.withLock { state in
      state.finished = true
      for key in state.statuses.keys { state.statuses[key] = .notServing }
      defer { state.watchers = [:] }
      return state.watchers.values.map(\.continuation)
    }
    for continuation in continuations {
      continuation.yield(.notServing)
      continuation.finish()
    }
  }

  /// The current status of a service and then every change, until shutdown.
  func updates(of service: String) -> AsyncStream<Status> {
    let (stream, continuation) = AsyncStream.makeStream(of: Status.self)
    let id: Int? = self.state.withLock { state in
      continuation.yield(state.statuses[service] ?? .serviceUnknown)
      guard !state.finished else { return nil }
      let id = state.nextWatcher
      state.nextWatcher += 1
      state.watchers[id] = (service, continuation)
      return id
    }
    guard let id else {
      continuation.finish()
      return stream
    }
    continuation.onTermination = { [weak self] _ in
      self?.state.withLock { _ = $0.watchers.removeValue(forKey: id) }
    }
    return stream
  }
}

/// `grpc.health.v1.Health` for one listener.
struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
  let status: HealthStatus

  /// The status of a service; `NOT_FOUND` for one this listener does not serve.
  func check(
    request: Grpc_Health_V1_HealthCheckRequest,
    context: ServerContext
  ) async throws -> Grpc_Health_V1_HealthCheckResponse {
    guard let status = self.status.status(of: request.service) else {
      throw RPCError(code: .notFound, message: "unknown service")
    }
    return .with { $0.status = status }
  }

  /// The status of a service now and on every change, until the listener shuts down.
  func watch(
    request: Grpc_Health_V1_HealthCheckRequest,
    response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
    context: ServerContext
  ) async throws {
    for await status in self.status.updates(of: request.service) {
      try await response.write(.with { $0.status = status })
    }
  }
}
