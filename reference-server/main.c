/* main.c — rtchaos-server: parse the configuration and run the server. */
#include <stdio.h>

#include "authz.h"
#include "config.h"
#include "log.h"
#include "server.h"

int main(int argc, char **argv)
{
    server_cfg cfg;
    char err[512];
    config_defaults(&cfg);
    int rc = config_parse_args(&cfg, argc, argv, stdout, err, sizeof(err));
    if (rc == 1)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "rtchaos-server: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    log_init("server", cfg.log_level);
    if (authz_init(&cfg, err, sizeof(err))) {
        fprintf(stderr, "rtchaos-server: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    rc = server_run(&cfg);
    authz_shutdown();
    config_free(&cfg);
    return rc;
}
