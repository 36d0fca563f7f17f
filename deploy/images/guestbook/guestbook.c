/*
 * orchestrator/guestbook: a local stand-in for gcr.io/google-samples/gb-frontend:v4 (no registry is reachable).
 * Same HTTP contract as the classic PHP frontend, on port 80 (or $PORT):
 *   GET /guestbook.php?cmd=set&key=K&value=V  -> SET K V on redis-master:6379, answers {"message": "Updated"}
 *   GET /guestbook.php?cmd=get&key=K          -> GET K from the replica service, answers {"data": "V"}
 *   GET /                                     -> a small page that uses the two calls above
 * Redis hosts come from DNS (redis-master; the replica as redis-slave, the upstream name, else redis-replica) or,
 * when GET_HOSTS_FROM=env, from REDIS_MASTER_SERVICE_HOST and REDIS_SLAVE_SERVICE_HOST/REDIS_REPLICA_SERVICE_HOST.
 * Dynamically linked so glibc's resolver reads the pod's /etc/resolv.conf (search path, ndots). One forked
 * child per connection; Connection: close after each answer.
 */
#define _GNU_SOURCE
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char *PAGE =
    "<!DOCTYPE html><html><head><title>Guestbook</title></head><body>\n"
    "<h2>Guestbook</h2><form id=f><input id=m placeholder=\"Message\"> <button>Submit</button></form>\n"
    "<div id=entries></div>\n<script>\n"
    "function show(){fetch('/guestbook.php?cmd=get&key=messages').then(r=>r.json()).then(j=>{"
    "document.getElementById('entries').innerText=(j.data||'').split(',').filter(x=>x).join('\\n');});}\n"
    "document.getElementById('f').onsubmit=function(e){e.preventDefault();"
    "fetch('/guestbook.php?cmd=get&key=messages').then(r=>r.json()).then(j=>{"
    "var v=(j.data?j.data+',':'')+document.getElementById('m').value;"
    "return fetch('/guestbook.php?cmd=set&key=messages&value='+encodeURIComponent(v));}).then(show);};\n"
    "show();\n</script></body></html>\n";

static void on_term(int sig) { (void)sig; _exit(0); }

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n <= 0) return -1;
        buf += n; len -= (size_t)n;
    }
    return 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Copies the URL-decoded value of query parameter `name` into out; 0 when absent. */
static int query_param(const char *query, const char *name, char *out, size_t cap) {
    size_t nlen = strlen(name);
    for (const char *p = query; p && *p; ) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t o = 0;
            for (size_t i = nlen + 1; i < len && o + 1 < cap; i++) {
                if (p[i] == '+') out[o++] = ' ';
                else if (p[i] == '%' && i + 2 < len && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
                    out[o++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
                    i += 2;
                } else out[o++] = p[i];
            }
            out[o] = '\0';
            return 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

static int connect_host(const char *host, int port) {
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
    if (getaddrinfo(host, service, &hints, &res) != 0) return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, 0);
        if (fd < 0) continue;
        struct timeval tv = { .tv_sec = 5 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Sends one RESP command and reads the reply into out: simple strings and bulk strings are returned as text,
 * a nil bulk string as "" with *nil set; -1 on an error reply or I/O failure. */
static int redis_call(const char *host, int argc, const char **argv, char *out, size_t cap, int *nil) {
    int fd = connect_host(host, 6379);
    if (fd < 0) return -1;
    char req[16384];
    size_t used = (size_t)snprintf(req, sizeof req, "*%d\r\n", argc);
    for (int i = 0; i < argc && used < sizeof req; i++)
        used += (size_t)snprintf(req + used, sizeof req - used, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    if (used >= sizeof req || write_all(fd, req, used) != 0) { close(fd); return -1; }
    char reply[16384];
    size_t got = 0;
    int rc = -1;
    *nil = 0;
    for (;;) {
        ssize_t n = read(fd, reply + got, sizeof reply - 1 - got);
        if (n <= 0) break;
        got += (size_t)n;
        reply[got] = '\0';
        char *eol = strstr(reply, "\r\n");
        if (!eol) continue;
        if (reply[0] == '+') {
            *eol = '\0';
            snprintf(out, cap, "%.*s", (int)(cap - 1), reply + 1);
            rc = 0;
            break;
        }
        if (reply[0] == '$') {
            long len = atol(reply + 1);
            if (len < 0) { out[0] = '\0'; *nil = 1; rc = 0; break; }
            char *data = eol + 2;
            if ((size_t)(data - reply) + (size_t)len + 2 > got) {
                if (got >= sizeof reply - 1) break;
                continue;
            }
            size_t take = (size_t)len < cap - 1 ? (size_t)len : cap - 1;
            memcpy(out, data, take);
            out[take] = '\0';
            rc = 0;
            break;
        }
        break; /* '-' error or anything unexpected */
    }
    close(fd);
    return rc;
}

static const char *master_host(void) {
    const char *from = getenv("GET_HOSTS_FROM");
    const char *env = getenv("REDIS_MASTER_SERVICE_HOST");
    return from && strcmp(from, "env") == 0 && env ? env : "redis-master";
}

/* The replica service: upstream calls it redis-slave; this project's manifests call it redis-replica. */
static const char *replica_host(void) {
    const char *from = getenv("GET_HOSTS_FROM");
    if (from && strcmp(from, "env") == 0) {
        const char *env = getenv("REDIS_SLAVE_SERVICE_HOST");
        if (!env) env = getenv("REDIS_REPLICA_SERVICE_HOST");
        if (env) return env;
    }
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
    if (getaddrinfo("redis-slave", "6379", &hints, &res) == 0) { freeaddrinfo(res); return "redis-slave"; }
    return "redis-replica";
}

static void json_escape(const char *in, char *out, size_t cap) {
    size_t o = 0;
    for (; *in && o + 7 < cap; in++) {
        unsigned char c = (unsigned char)*in;
        if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = (char)c; }
        else if (c < 0x20) o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        else out[o++] = (char)c;
    }
    out[o] = '\0';
}

static void respond(int fd, int status, const char *type, const char *body) {
    char head[256];
    int len = snprintf(head, sizeof head,
        "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
        status, status == 200 ? "OK" : status == 404 ? "Not Found" : "Internal Server Error", type, strlen(body));
    if (write_all(fd, head, (size_t)len) == 0) write_all(fd, body, strlen(body));
}

static void serve(int fd) {
    char buf[16384];
    size_t used = 0;
    while (!memmem(buf, used, "\r\n\r\n", 4)) {
        if (used == sizeof buf - 1) return;
        ssize_t n = read(fd, buf + used, sizeof buf - 1 - used);
        if (n <= 0) return;
        used += (size_t)n;
    }
    buf[used] = '\0';
    char *sp1 = strchr(buf, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp2) return;
    *sp2 = '\0';
    char *target = sp1 + 1;
    char *query = strchr(target, '?');
    if (query) *query++ = '\0';

    if (strcmp(target, "/guestbook.php") != 0) {
        if (strcmp(target, "/") == 0 || strcmp(target, "/index.html") == 0) respond(fd, 200, "text/html; charset=utf-8", PAGE);
        else respond(fd, 404, "text/plain", "not found\n");
        return;
    }
    static char cmd[64], key[4096], value[8192], result[8192], escaped[16384], body[16600];
    if (!query || !query_param(query, "cmd", cmd, sizeof cmd) || !query_param(query, "key", key, sizeof key)) {
        respond(fd, 404, "text/plain", "cmd and key are required\n");
        return;
    }
    int nil = 0;
    if (strcmp(cmd, "set") == 0) {
        if (!query_param(query, "value", value, sizeof value)) value[0] = '\0';
        const char *argv[] = { "SET", key, value };
        if (redis_call(master_host(), 3, argv, result, sizeof result, &nil) != 0) {
            respond(fd, 500, "application/json", "{\"error\": \"redis-master unavailable\"}");
            return;
        }
        respond(fd, 200, "application/json", "{\"message\": \"Updated\"}");
    } else if (strcmp(cmd, "get") == 0) {
        const char *argv[] = { "GET", key };
        if (redis_call(replica_host(), 2, argv, result, sizeof result, &nil) != 0) {
            respond(fd, 500, "application/json", "{\"error\": \"redis replica unavailable\"}");
            return;
        }
        json_escape(result, escaped, sizeof escaped);
        snprintf(body, sizeof body, "{\"data\": \"%s\"}", escaped);
        respond(fd, 200, "application/json", body);
    } else respond(fd, 404, "text/plain", "unknown cmd\n");
}

int main(void) {
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGCHLD, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    const char *port_env = getenv("PORT");
    int port = port_env ? atoi(port_env) : 80;
    int server = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port), .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (bind(server, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(server, 128) != 0) {
        perror("guestbook: bind/listen");
        return 1;
    }
    fprintf(stderr, "guestbook: listening on port %d\n", port);
    for (;;) {
        int client = accept(server, NULL, NULL);
        if (client < 0) continue;
        pid_t pid = fork();
        if (pid == 0) { close(server); serve(client); close(client); _exit(0); }
        close(client);
    }
}
