package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Collections;
import java.util.Optional;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.junit.jupiter.api.Test;

/**
 * An in-process job's REST endpoint, as {@code run} and the demo start it: reachable on the
 * loopback only, and without jar upload or submission.
 */
class LocalRestTest {

    @Test
    void theRestEndpointListensOnTheLoopbackOnlyWithoutJarUpload() throws Exception {
        Configuration conf = LocalRest.bind(new Configuration(), LocalRest.DEFAULT_BIND_ADDRESS);
        conf.set(RestOptions.PORT, 0);
        try (MiniCluster cluster =
                new MiniCluster(
                        new MiniClusterConfiguration.Builder()
                                .setConfiguration(conf)
                                .setNumTaskManagers(1)
                                .setNumSlotsPerTaskManager(1)
                                .build())) {
            cluster.start();
            int port = cluster.getRestAddress().get().getPort();

            String config = get("http://127.0.0.1:" + port + "/config");
            assertThat(config).contains("\"web-submit\":false");

            Optional<InetAddress> external = externalAddress();
            if (external.isPresent()) {
                // another interface of this machine: nothing listens there
                assertThatThrownBy(() -> connect(external.get(), port))
                        .isInstanceOf(IOException.class);
            }
        }
    }

    private static String get(String url) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(url)).build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    private static void connect(InetAddress address, int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address, port), 2_000);
        }
    }

    /** An IPv4 address of this machine other than the loopback, if it has one. */
    private static Optional<InetAddress> externalAddress() throws Exception {
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) {
                continue;
            }
            for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                if (address instanceof Inet4Address && !address.isLoopbackAddress()) {
                    return Optional.of(address);
                }
            }
        }
        return Optional.empty();
    }
}
