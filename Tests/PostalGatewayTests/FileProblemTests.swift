import Foundation
import Testing

@testable import PostalGateway

/// A malformed or missing file is named with the field that is wrong, in an operator's words.
@Suite("Operator messages for bad files")
struct FileProblemTests {
  static func write(_ text: String) throws -> String {
    let path = (temporaryDirectory() as NSString).appendingPathComponent("file.json")
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
  }

  static func message(_ body: () throws -> Void) -> String {
    do {
      try body()
      return "no error"
    } catch {
      return "\(error)"
    }
  }

  @Test("a missing field of a catalog is named by its path")
  func missingField() throws {
    let path = try Self.write(
      """
      { "version": "t", "procedures": [ { "code": "2.000635", "name": "x", "agencies": [],
        "documents": [ { "id": "A", "form": "ORIGINAL", "quantity": 1 } ],
        "processingWorkingDays": 1, "feeVND": 0, "postalEligible": true,
        "inPersonOnly": false, "sameDay": false } ] }
      """
    )
    let message = Self.message { _ = try CatalogFile.load(path: path) }
    #expect(message == "procedure catalog \(path): procedures[0].documents[0].name is missing")
  }

  @Test("a value of the wrong type in the configuration is named with the type it must have")
  func wrongType() throws {
    let path = try Self.write(#"{ "partner": { "host": "127.0.0.1", "port": "7443" } }"#)
    var configuration = GatewayConfiguration()
    let message = Self.message { try configuration.apply(file: path) }
    #expect(message == "configuration file \(path): partner.port must be a whole number")
  }

  @Test("broken JSON and a missing file say so without a Foundation dump")
  func brokenAndMissing() throws {
    let broken = try Self.write(#"{ "agencies": [ "#)
    let message = Self.message { _ = try AgencyRoutesFile.load(path: broken) }
    #expect(message.hasPrefix("routing file \(broken): is not valid JSON"))
    #expect(!message.contains("DecodingError"))
    var configuration = GatewayConfiguration()
    let missing = Self.message { try configuration.apply(file: "/nonexistent/config.json") }
    #expect(missing == "configuration file /nonexistent/config.json: does not exist")
  }
}
