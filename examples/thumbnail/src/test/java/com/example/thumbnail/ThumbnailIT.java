package com.example.thumbnail;

import io.kiln.agent.testing.AgentProcess;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.ResultFrame;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.kiln.agent.testing.AgentSession.expect;
import static io.kiln.agent.testing.AgentSession.meta;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** target/thumbnail.jar deployed into the real agent, fed images made here. */
class ThumbnailIT {

    @Test
    void thumbnailsKeepTheAspectRatio() throws Exception {
        try (AgentProcess a = AgentProcess.start()) {
            a.ready();
            byte[] jar = Files.readAllBytes(Path.of(System.getProperty("kiln.example.jar")));
            InitializedFrame init = expect(a.load(jar, "com.example.thumbnail.Thumbnail"),
                    InitializedFrame.class, 0);
            assertEquals(1, meta(init).get("hooks").asInt()); // the priming hook

            // 640 * 128 / 640 = 128, 480 * 128 / 640 = 96 exactly.
            assertSize(128, 96, thumbnail(a, 1, image(640, 480, "png")));
            // 300 * 128 / 1000 = 38.4, rounded to 38.
            assertSize(38, 128, thumbnail(a, 2, image(300, 1000, "jpg")));
            // Already small enough: the same size, as PNG.
            assertSize(100, 50, thumbnail(a, 3, image(100, 50, "jpg")));

            ErrorFrame e = expect(a.invoke(4, "", "not an image".getBytes(StandardCharsets.UTF_8)),
                    ErrorFrame.class, 4);
            assertEquals("function_error", meta(e).get("code").asText());
            assertEquals("not an image: send the bytes of a PNG or JPEG",
                    meta(e).get("message").asText());

            e = expect(a.invoke(5, "", image(10, 10, "gif")), ErrorFrame.class, 5);
            assertEquals("function_error", meta(e).get("code").asText());
            assertEquals("a gif image: send a PNG or JPEG", meta(e).get("message").asText());
        }
    }

    private static BufferedImage thumbnail(AgentProcess a, long id, byte[] image)
            throws Exception {
        ResultFrame r = expect(a.invoke(id, "", image), ResultFrame.class, id);
        assertEquals("{\"status\":200,\"headers\":[[\"Content-Type\",\"image/png\"]]}",
                meta(r).get("http").toString());
        assertEquals(0x89, r.body()[0] & 0xff); // PNG signature
        assertEquals("PNG", new String(r.body(), 1, 3, StandardCharsets.US_ASCII));
        return ImageIO.read(new ByteArrayInputStream(r.body()));
    }

    private static void assertSize(int width, int height, BufferedImage image) {
        assertEquals(width + "x" + height, image.getWidth() + "x" + image.getHeight());
    }

    /** A gradient with a diagonal stripe, encoded in {@code format}. */
    private static byte[] image(int width, int height, String format) throws Exception {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        for (int y = 0; y < height; y++) {
            g.setColor(new Color(y * 255 / height, 80, 160));
            g.drawLine(0, y, width, y);
        }
        g.setColor(Color.WHITE);
        g.drawLine(0, 0, width, height);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(img, format, out)) {
            throw new IllegalStateException("no ImageIO writer for " + format);
        }
        return out.toByteArray();
    }
}
