// A plugin-socket client of the pushwire socket relay, in plain Java (JDK 11+, no libraries).
//
//   java examples/RelayClient.java RELAY_HOST:PORT HTTP_BASE CHANNEL [AFTER_ID]
//   java examples/RelayClient.java --policy RELAY_HOST:PORT
//
// It connects to the relay, reads its id from the greeting, subscribes over HTTP with that id
// (resuming after AFTER_ID when given) and prints one line per document:
//   id RELAY_ID
//   subscribed CHANNEL CURSOR
//   message CHANNEL ID EVENT DATA_JSON      (EVENT is "-" when the message has none)
//   reset CHANNEL                           (messages after the cursor were lost)
//   error CODE                              (why the relay is closing the connection)
//   closed
// When the connection ends it reconnects a second later and resumes after the last message id
// it printed, so nothing is missed or repeated. Stop it with Ctrl-C.
// With --policy it sends a Flash <policy-file-request/> and prints the policy document instead.
import java.io.ByteArrayOutputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;

public class RelayClient {
  public static void main(String[] args) throws Exception {
    if (args.length == 2 && args[0].equals("--policy")) {
      policy(args[1]);
    } else if (args.length == 3 || args.length == 4) {
      follow(args[0], args[1], args[2], args.length == 4 ? args[3] : null);
    } else {
      System.err.println("usage: RelayClient HOST:PORT HTTP_BASE CHANNEL [AFTER_ID] | --policy HOST:PORT");
      System.exit(2);
    }
  }

  static Socket connect(String hostPort) throws IOException {
    int colon = hostPort.lastIndexOf(':');
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress(hostPort.substring(0, colon),
        Integer.parseInt(hostPort.substring(colon + 1))), 10_000);
    return socket;
  }

  /** Reads one document: the bytes up to the NUL that ends it; null when the relay closed. */
  static byte[] readDocument(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int b = in.read(); b != 0; b = in.read()) {
      if (b < 0) return null;
      out.write(b);
    }
    return out.toByteArray();
  }

  static Element parse(DocumentBuilder parser, byte[] document) throws Exception {
    return parser.parse(new ByteArrayInputStream(document)).getDocumentElement();
  }

  static void follow(String relay, String httpBase, String channel, String after) throws Exception {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    // The relay never sends a DTD; refusing one keeps the parser from fetching anything.
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    DocumentBuilder parser = factory.newDocumentBuilder();
    // HTTP/1.1: the default HTTP/2 client would first ask for an h2c upgrade.
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String lastId = after;
    while (true) {
      try (Socket socket = connect(relay)) {
        InputStream in = socket.getInputStream();
        Element greeting = parse(parser, readDocument(in));
        String id = greeting.getAttribute("id");
        System.out.println("id " + id);

        // Subscribing is an ordinary HTTP request carrying the relay id and the resume cursor.
        String url = httpBase + "/relay/" + id + "/channels/" + channel
            + (lastId == null ? "" : "?after=" + URLEncoder.encode(lastId, StandardCharsets.UTF_8));
        HttpResponse<String> response = http.send(
            HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.noBody()).build(),
            HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
          System.out.println("error " + response.statusCode() + " " + response.body());
          return;
        }
        String cursor = response.body().replaceAll(".*\"cursor\":\"([^\"]*)\".*", "$1");
        System.out.println("subscribed " + channel + " " + cursor);

        for (byte[] document = readDocument(in); document != null; document = readDocument(in)) {
          Element element = parse(parser, document);
          switch (element.getTagName()) {
            case "message" -> {
              String event = element.hasAttribute("event") ? element.getAttribute("event") : "-";
              lastId = element.getAttribute("id");
              // The text is JSON: any JSON library reads it; here it is printed as is.
              System.out.println("message " + element.getAttribute("channel") + " " + lastId
                  + " " + event + " " + element.getTextContent());
            }
            case "reset" -> System.out.println("reset " + element.getAttribute("channel"));
            // The relay's last document before it closes the socket on purpose.
            case "error" -> System.out.println("error " + element.getAttribute("code"));
            default -> System.out.println("other " + element.getTagName());
          }
          System.out.flush();
        }
      } catch (IOException e) {
        System.out.println("failed " + e.getMessage());
      }
      System.out.println("closed");
      System.out.flush();
      Thread.sleep(1000);
    }
  }

  static void policy(String relay) throws Exception {
    try (Socket socket = connect(relay)) {
      socket.getOutputStream().write("<policy-file-request/>\0".getBytes(StandardCharsets.UTF_8));
      socket.getOutputStream().flush();
      InputStream in = socket.getInputStream();
      byte[] document = readDocument(in);
      System.out.println(new String(document, StandardCharsets.UTF_8));
      // Flash expects the server to close the connection after the policy's NUL.
      System.out.println(in.read() < 0 ? "closed" : "open");
    }
  }
}
