package io.tidemark.job;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.WebOptions;

/**
 * The REST endpoint (and web UI) of a job Tidemark runs in-process: bound to one address, by
 * default the loopback, with jar upload and submission turned off. Flink's own default binds every
 * interface with submission on, which lets anyone who reaches the port run code in the process.
 */
public final class LocalRest {

    /** The address an in-process job's REST endpoint binds unless told otherwise. */
    public static final String DEFAULT_BIND_ADDRESS = "127.0.0.1";

    private LocalRest() {}

    /** Binds the REST endpoint of {@code conf}'s local cluster to {@code address}, upload off. */
    public static Configuration bind(Configuration conf, String address) {
        conf.set(RestOptions.BIND_ADDRESS, address);
        conf.set(RestOptions.ADDRESS, address);
        conf.set(WebOptions.SUBMIT_ENABLE, false);
        return conf;
    }
}
