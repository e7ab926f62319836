// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package dstunnel.load;

import static io.gatling.javaapi.core.CoreDsl.ByteArrayBody;
import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.bodyString;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.http.HttpProtocolBuilder;

/**
 * The DataSnap tunnel protocol in Gatling's Java DSL: a session's handshake (filter query, DBX
 * connect, prepare EchoString) and one EchoString call (a PUT and its GET). Every answer is
 * checked: a call must come back with its own argument, once.
 */
final class Tunnel {

  static final String PATH = "/datasnap/tunnel";
  private static final byte[] FILTER_QUERY = {5, 5, 5, 5, 5};

  private Tunnel() {
  }

  static int port() {
    return Integer.getInteger("port", 8080);
  }

  static HttpProtocolBuilder protocol() {
    return http.baseUrl("http://127.0.0.1:" + port())
        .basicAuth(System.getProperty("user", "admin"), System.getProperty("password", "admin"))
        .shareConnections()
        .disableCaching();
  }

  private static ChainBuilder read(String name) {
    return exec(http(name).get(PATH + "?dss=#{sid}&c=32768").check(status().is(200), bodyString().saveAs("answer")));
  }

  static final ChainBuilder HANDSHAKE = exec(
      http("open").put(PATH + "?dss=0&c=5").body(ByteArrayBody(FILTER_QUERY))
          .check(status().is(200), jsonPath("$.response[0]").saveAs("sid")))
      .exec(read("read filter answer"))
      .exec(http("connect").put(PATH + "?dss=#{sid}")
          .body(StringBody("{\"method\":\"connect\",\"params\":[{\"DriverName\":\"Datasnap\"}]}")).check(status().is(200)))
      .exec(read("read connect answer"))
      .exec(http("prepare").put(PATH + "?dss=#{sid}")
          .body(StringBody("{\"method\":\"prepare\",\"params\":[-1,false,\"DSServerMethod\",\"TServerMethods1.EchoString\"]}"))
          .check(status().is(200)))
      .exec(http("read prepare answer").get(PATH + "?dss=#{sid}&c=32768")
          .check(status().is(200), jsonPath("$.result[0]").ofInt().saveAs("handle")))
      .exec(session -> session.set("n", 0));

  /** One EchoString call: the answer must carry this call's own number. */
  static final ChainBuilder CALL = exec(session -> session.set("n", session.getInt("n") + 1))
      .exec(http("execute").put(PATH + "?dss=#{sid}")
          .body(StringBody("{\"method\":\"execute\",\"params\":[#{handle},[\"call #{n}\"]]}")).check(status().is(200)))
      .exec(http("read answer").get(PATH + "?dss=#{sid}&c=32768")
          .check(status().is(200), jsonPath("$.result[0]").transform(s -> s.replaceAll(" \\(Server .*\\)$", ""))
              .isEL("call #{n}")));

  static final ChainBuilder CLOSE = exec(http("close").post(PATH + "?dss=#{sid}")
      .header("Content-Type", "application/x-www-form-urlencoded").body(StringBody("dss=-#{sid}"))
      .check(status().is(200)));
}
