/* api-stream.c: what the streamed replies (events, logs) share; see
 * api-internal.h. */
#include "config.h"

#include "api-internal.h"

void api_stream_link(struct api_stream_base **head, struct api_stream_base *b) {
        b->prev = NULL;
        b->next = *head;
        if (*head)
                (*head)->prev = b;
        *head = b;
        if (b->follow) {
                b->api->n_follow++;
                api_heartbeat_update(b->api);
        }
}

void api_stream_unlink(struct api_stream_base **head, struct api_stream_base *b) {
        if (b->prev)
                b->prev->next = b->next;
        else
                *head = b->next;
        if (b->next)
                b->next->prev = b->prev;
        b->prev = b->next = NULL;
        if (b->follow) {
                b->api->n_follow--;
                api_heartbeat_update(b->api);
        }
}

bool api_stream_wake(struct api_stream_base *b) {
        if (!b->suspended || b->resume)
                return false;
        b->resume = true;
        api_schedule_run(b->api);
        return true;
}

ssize_t api_stream_idle(struct api_stream_base *b, char *buf) {
        if (b->heartbeat) {
                b->heartbeat = false;
                buf[0] = '\n';
                return 1;
        }
        /* park the connection until there is news or the heartbeat */
        MHD_suspend_connection(b->conn);
        b->suspended = true;
        return 0;
}

static void resume(struct api_stream_base *b) {
        if (b->suspended) {
                b->suspended = false;
                MHD_resume_connection(b->conn);
        }
}

void api_stream_list_resume(struct api_stream_base *head) {
        for (struct api_stream_base *b = head; b; b = b->next)
                if (b->resume) {
                        b->resume = false;
                        resume(b);
                }
}

void api_stream_list_heartbeat(struct api_stream_base *head) {
        for (struct api_stream_base *b = head; b; b = b->next)
                if (b->follow) {
                        b->heartbeat = true;
                        if (b->suspended)
                                b->resume = true;
                }
}

void api_stream_list_close(struct api_stream_base *head) {
        for (struct api_stream_base *b = head; b; b = b->next) {
                b->closing = true;
                b->resume = false;
                resume(b);
        }
}

bool api_stream_list_hangup(struct api_stream_base *head, struct MHD_Connection *conn) {
        for (struct api_stream_base *b = head; b; b = b->next)
                if (b->conn == conn) {
                        b->heartbeat = true;
                        (void) api_stream_wake(b);
                        return true;
                }
        return false;
}
