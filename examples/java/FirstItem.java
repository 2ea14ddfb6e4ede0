import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Publishes a penalty decision through the platform's publishing API with nothing but the JDK (17+).
 *
 * <p>Reads BASE (default http://127.0.0.1:8000), CLIENT_ID and CLIENT_SECRET from the environment, and
 * optionally EXTERNAL_ID (the case system's own id of the item). Gets a bearer token, publishes the decision
 * (an idempotent PUT: running it again changes nothing), reads it back and prints the platform's item id.
 * Answers 429 and 503 are retried after their Retry-After; secrets travel only in request bodies.
 */
public final class FirstItem {
    private static final int ATTEMPTS = 6;
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public static void main(String[] args) throws IOException, InterruptedException {
        String base = env("BASE", "http://127.0.0.1:8000").replaceAll("/+$", "");
        String clientId = env("CLIENT_ID", null);
        String clientSecret = env("CLIENT_SECRET", null);
        String externalId = env("EXTERNAL_ID", "java-example-1");

        Map<String, Object> credentials = new LinkedHashMap<>();
        credentials.put("client_id", clientId);
        credentials.put("client_secret", clientSecret);
        Map<String, Object> token = call("POST", base + "/api/v1/auth/token", null, credentials, 200);
        String bearer = "Bearer " + token.get("access_token");

        String itemUrl = base + "/api/v1/publish/disclosures/" + URLEncoder.encode(externalId, StandardCharsets.UTF_8);
        Map<String, Object> published = call("PUT", itemUrl, bearer, decision(), 200, 201);
        Map<String, Object> readBack = call("GET", itemUrl, bearer, null, 200);
        if (!published.get("id").equals(readBack.get("id")) || !"published".equals(readBack.get("status"))) {
            throw new IllegalStateException("read back " + Json.write(readBack));
        }
        System.out.println(readBack.get("id"));
    }

    /** A penalty decision with every field the service requires (README: "Publish your first item"). */
    static Map<String, Object> decision() {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("penalty_classes", List.of("fine"));
        details.put("violation_type", "销售标签不符合规定的食品");
        details.put("violation_facts", "当事人销售的预包装食品未标注生产日期。");
        details.put("penalty_content", "罚款二千元");
        details.put("fine_amount", "2000");
        details.put("legal_representative", "王某某");
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("phase", "post");
        item.put("type", "decision");
        item.put("category", "penalty");
        item.put("title", "泉州市某食品有限公司销售标签不符合规定的食品行政处罚决定书");
        item.put("content", "当事人销售的预包装食品未标注生产日期，违反《中华人民共和国食品安全法》第六十七条，决定罚款二千元。");
        item.put("legal_basis", "《中华人民共和国食品安全法》第一百二十五条");
        item.put("document_no", "泉市监罚〔2026〕102号");
        item.put("decision_date", "2026-11-23");
        item.put("outcome", "罚款");
        item.put("subject_type", "organization");
        item.put("subject_name", "泉州市某食品有限公司");
        item.put("subject_id", "91350500MA2Y00002X");
        item.put("details", details);
        return item;
    }

    /**
     * One JSON call, retried on 429 and 503 (after Retry-After seconds, else 1, 2, 4 ... s) up to ATTEMPTS
     * times; any other status than {@code expected} stops with the platform's error body.
     */
    static Map<String, Object> call(String method, String url, String bearer, Map<String, Object> body, int... expected)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(30))
                .header("Accept", "application/json")
                .method(method, body == null
                        ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(Json.write(body), StandardCharsets.UTF_8));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (bearer != null) {
            request.header("Authorization", bearer);
        }
        for (int attempt = 1; ; attempt++) {
            HttpResponse<String> response =
                    HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            int status = response.statusCode();
            for (int ok : expected) {
                if (status == ok) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> answer = (Map<String, Object>) Json.read(response.body());
                    return answer;
                }
            }
            if ((status == 429 || status == 503) && attempt < ATTEMPTS) {
                long seconds = response.headers().firstValue("Retry-After")
                        .map(FirstItem::seconds).orElse(1L << (attempt - 1));
                System.err.printf("%s %s: %d, retrying in %d s%n", method, URI.create(url).getPath(), status, seconds);
                Thread.sleep(seconds * 1000);
                continue;
            }
            throw new IOException(method + " " + url + ": " + status + " " + response.body());
        }
    }

    private static long seconds(String retryAfter) {
        try {
            return Math.max(0, Math.min(60, Long.parseLong(retryAfter.trim())));
        } catch (NumberFormatException httpDate) {
            return 1; // an HTTP date: the platform sends seconds, so wait the shortest sensible time
        }
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        if (value != null && !value.isEmpty()) {
            return value;
        }
        if (fallback == null) {
            throw new IllegalArgumentException("set " + name);
        }
        return fallback;
    }

    /** Just enough JSON: objects (LinkedHashMap), arrays, strings, numbers (BigDecimal), booleans, null. */
    static final class Json {
        private final String text;
        private int at;

        private Json(String text) {
            this.text = text;
        }

        static Object read(String text) {
            Json parser = new Json(text);
            Object value = parser.value();
            parser.space();
            if (parser.at != text.length()) {
                throw parser.error("trailing characters");
            }
            return value;
        }

        static String write(Object value) {
            StringBuilder out = new StringBuilder();
            write(value, out);
            return out.toString();
        }

        private static void write(Object value, StringBuilder out) {
            if (value == null) {
                out.append("null");
            } else if (value instanceof String s) {
                out.append('"');
                for (char c : s.toCharArray()) {
                    switch (c) {
                        case '"' -> out.append("\\\"");
                        case '\\' -> out.append("\\\\");
                        case '\n' -> out.append("\\n");
                        case '\r' -> out.append("\\r");
                        case '\t' -> out.append("\\t");
                        default -> {
                            if (c < 0x20) {
                                out.append(String.format("\\u%04x", (int) c));
                            } else {
                                out.append(c);
                            }
                        }
                    }
                }
                out.append('"');
            } else if (value instanceof Number || value instanceof Boolean) {
                out.append(value);
            } else if (value instanceof Map<?, ?> map) {
                out.append('{');
                String separator = "";
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    out.append(separator);
                    write(String.valueOf(entry.getKey()), out);
                    out.append(':');
                    write(entry.getValue(), out);
                    separator = ",";
                }
                out.append('}');
            } else if (value instanceof List<?> list) {
                out.append('[');
                String separator = "";
                for (Object element : list) {
                    out.append(separator);
                    write(element, out);
                    separator = ",";
                }
                out.append(']');
            } else {
                throw new IllegalArgumentException("cannot write " + value.getClass());
            }
        }

        private Object value() {
            space();
            if (at >= text.length()) {
                throw error("unexpected end");
            }
            char c = text.charAt(at);
            switch (c) {
                case '{':
                    return object();
                case '[':
                    return array();
                case '"':
                    return string();
                default:
                    if (text.startsWith("true", at)) {
                        at += 4;
                        return Boolean.TRUE;
                    }
                    if (text.startsWith("false", at)) {
                        at += 5;
                        return Boolean.FALSE;
                    }
                    if (text.startsWith("null", at)) {
                        at += 4;
                        return null;
                    }
                    return number();
            }
        }

        private Map<String, Object> object() {
            Map<String, Object> map = new LinkedHashMap<>();
            at++;
            space();
            if (peek() == '}') {
                at++;
                return map;
            }
            while (true) {
                space();
                if (peek() != '"') {
                    throw error("expected a key");
                }
                String key = string();
                space();
                expect(':');
                map.put(key, value());
                space();
                if (peek() == ',') {
                    at++;
                } else {
                    expect('}');
                    return map;
                }
            }
        }

        private List<Object> array() {
            List<Object> list = new ArrayList<>();
            at++;
            space();
            if (peek() == ']') {
                at++;
                return list;
            }
            while (true) {
                list.add(value());
                space();
                if (peek() == ',') {
                    at++;
                } else {
                    expect(']');
                    return list;
                }
            }
        }

        private String string() {
            StringBuilder out = new StringBuilder();
            at++;
            while (true) {
                if (at >= text.length()) {
                    throw error("unterminated string");
                }
                char c = text.charAt(at++);
                if (c == '"') {
                    return out.toString();
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char escaped = text.charAt(at++);
                switch (escaped) {
                    case '"', '\\', '/' -> out.append(escaped);
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'u' -> {
                        out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                        at += 4;
                    }
                    default -> throw error("bad escape");
                }
            }
        }

        private BigDecimal number() {
            int start = at;
            while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) {
                at++;
            }
            if (start == at) {
                throw error("unexpected character");
            }
            return new BigDecimal(text.substring(start, at));
        }

        private void space() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
                at++;
            }
        }

        private char peek() {
            return at < text.length() ? text.charAt(at) : '\0';
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            at++;
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("JSON: " + what + " at " + at);
        }
    }
}
