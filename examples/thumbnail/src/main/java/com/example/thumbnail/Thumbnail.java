package com.example.thumbnail;

import io.kiln.function.Context;
import io.kiln.function.Handler;
import io.kiln.function.HttpResponse;
import io.kiln.function.Lifecycle;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;

/**
 * A PNG or JPEG in (the raw body), a PNG thumbnail out: at most 128x128, aspect ratio kept.
 * The longer side becomes 128 and the shorter one is scaled to the nearest pixel (halves round
 * up, never below 1): 640x480 gives 128x96, 300x1000 gives 38x128. Smaller images keep their size.
 */
public final class Thumbnail implements Handler<byte[], HttpResponse>, Lifecycle {

    static final int MAX_SIDE = 128;
    /** Decoding holds every pixel in memory: a 24-megapixel photo fits, a pixel bomb does not. */
    static final long MAX_PIXELS = 25_000_000;
    private static final Set<String> FORMATS = Set.of("png", "jpeg");

    static {
        System.setProperty("java.awt.headless", "true"); // no display in a function
        ImageIO.setUseCache(false); // decode in memory, no temporary files
    }

    @Override
    public HttpResponse handle(byte[] image, Context ctx) throws IOException {
        BufferedImage thumb = scale(decode(image));
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(thumb, "png", png);
        return HttpResponse.builder(200).header("Content-Type", "image/png")
                .body(png.toByteArray()).build();
    }

    /** Priming: one small image through the whole path, so the snapshot holds ImageIO warm. */
    @Override
    public void beforeSnapshot() throws IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(300, 200, BufferedImage.TYPE_INT_RGB), "png", png);
        handle(png.toByteArray(), null);
    }

    private static BufferedImage decode(byte[] bytes) throws IOException {
        try (ImageInputStream in =
                     ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IllegalArgumentException("not an image: send the bytes of a PNG or JPEG");
            }
            ImageReader reader = readers.next();
            try {
                String format = reader.getFormatName().toLowerCase(Locale.ROOT);
                if (!FORMATS.contains(format)) {
                    throw new IllegalArgumentException(
                            "a " + format + " image: send a PNG or JPEG");
                }
                reader.setInput(in, true, true);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if ((long) w * h > MAX_PIXELS) {
                    throw new IllegalArgumentException("image too large: " + w + "x" + h
                            + " is over " + MAX_PIXELS + " pixels");
                }
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        }
    }

    private static BufferedImage scale(BufferedImage src) {
        int w = src.getWidth();
        int h = src.getHeight();
        int longer = Math.max(w, h);
        if (longer <= MAX_SIDE) {
            return src;
        }
        int tw = scaled(w, longer);
        int th = scaled(h, longer);
        int type = src.getColorModel().hasAlpha() ? BufferedImage.TYPE_INT_ARGB
                : BufferedImage.TYPE_INT_RGB;
        BufferedImage dst = new BufferedImage(tw, th, type);
        Graphics2D g = dst.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION,
                    RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(src, 0, 0, tw, th, null);
        } finally {
            g.dispose();
        }
        return dst;
    }

    /** {@code side * 128 / longer}, rounded to the nearest pixel (halves up), at least 1. */
    static int scaled(int side, int longer) {
        return (int) Math.max(1, ((long) side * MAX_SIDE + longer / 2) / longer);
    }
}
