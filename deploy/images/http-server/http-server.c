/*
 * orchestrator/http-server: a local stand-in for katacoda/docker-http-server (no registry is reachable
 * in the lab). Answers every HTTP request on port 80 (or $PORT) with
 *   <h1>This request was processed by host: HOSTNAME</h1>
 * Keep-alive aware (the node's proxy pools connections), one forked child per connection, and it exits
 * on SIGTERM even as PID 1 (where default signal actions do not apply).
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static void on_term(int sig) { (void)sig; _exit(0); }

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n <= 0) return -1;
        buf += n; len -= (size_t)n;
    }
    return 0;
}

/* Serves requests on one connection until the peer closes it or asks to. */
static void serve(int fd, const char *body) {
    char buf[16384];
    size_t used = 0;
    for (;;) {
        char *end;
        while ((end = memmem(buf, used, "\r\n\r\n", 4)) == NULL) {
            if (used == sizeof buf) return;               /* header too large */
            ssize_t n = read(fd, buf + used, sizeof buf - used);
            if (n <= 0) return;
            used += (size_t)n;
        }
        size_t head_len = (size_t)(end - buf) + 4;
        buf[head_len - 1] = '\0';
        long content_length = 0;
        char *request_line_end = strstr(buf, "\r\n");
        int close_after = request_line_end && request_line_end - buf >= 8 &&
                          strncmp(request_line_end - 8, "HTTP/1.0", 8) == 0;
        for (char *line = request_line_end; line; line = strstr(line + 2, "\r\n")) {
            char *next = strstr(line + 2, "\r\n");
            if (next) *next = '\0';              /* look at one header line at a time */
            if (strncasecmp(line + 2, "Content-Length:", 15) == 0) content_length = atol(line + 17);
            if (strncasecmp(line + 2, "Connection:", 11) == 0) {
                if (strcasestr(line + 13, "close")) close_after = 1;
                if (strcasestr(line + 13, "keep-alive")) close_after = 0;
            }
            if (!next) break;
            *next = '\r';
        }
        /* Discard the request body. */
        size_t rest = used - head_len;
        memmove(buf, buf + head_len, rest);
        used = rest;
        while (content_length > 0) {
            if (used > 0) {
                size_t take = (size_t)content_length < used ? (size_t)content_length : used;
                memmove(buf, buf + take, used - take);
                used -= take; content_length -= (long)take;
                continue;
            }
            ssize_t n = read(fd, buf, sizeof buf);
            if (n <= 0) return;
            used = (size_t)n;
        }
        char response[1024];
        int len = snprintf(response, sizeof response,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n%s\r\n%s",
            strlen(body), close_after ? "Connection: close\r\n" : "", body);
        if (write_all(fd, response, (size_t)len) != 0 || close_after) return;
    }
}

int main(void) {
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGCHLD, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);

    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    char body[512];
    snprintf(body, sizeof body, "<h1>This request was processed by host: %s</h1>\n", host);

    const char *port_env = getenv("PORT");
    int port = port_env ? atoi(port_env) : 80;
    int server = socket(AF_INET6, SOCK_STREAM, 0);
    int domain6 = server >= 0;
    if (!domain6) server = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1, zero = 0;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int bound;
    if (domain6) {
        setsockopt(server, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        struct sockaddr_in6 addr = { .sin6_family = AF_INET6, .sin6_port = htons((unsigned short)port), .sin6_addr = in6addr_any };
        bound = bind(server, (struct sockaddr *)&addr, sizeof addr);
    } else {
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port), .sin_addr.s_addr = htonl(INADDR_ANY) };
        bound = bind(server, (struct sockaddr *)&addr, sizeof addr);
    }
    if (bound != 0 || listen(server, 128) != 0) { perror("http-server: bind/listen"); return 1; }
    fprintf(stderr, "http-server: listening on port %d as host %s\n", port, host);

    for (;;) {
        int client = accept(server, NULL, NULL);
        if (client < 0) continue;
        pid_t pid = fork();
        if (pid == 0) { close(server); serve(client, body); close(client); _exit(0); }
        close(client);
    }
}
