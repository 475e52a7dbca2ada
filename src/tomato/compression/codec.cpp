// SPDX-License-Identifier: Apache-2.0
#include <tomato/compression/codec_p.h>

#include <zlib.h>
#include <zstd.h>

namespace Tomato::Compression {

bool fromName(QByteArrayView name, Kind *out)
{
    if (name == "none" || name.isEmpty())
        *out = Kind::None;
    else if (name == "gzip")
        *out = Kind::Gzip;
    else if (name == "zstd")
        *out = Kind::Zstd;
    else
        return false;
    return true;
}

QByteArray name(Kind kind)
{
    switch (kind) {
    case Kind::Gzip: return QByteArrayLiteral("gzip");
    case Kind::Zstd: return QByteArrayLiteral("zstd");
    case Kind::None: break;
    }
    return QByteArrayLiteral("none");
}

namespace {

QByteArray gzipCompress(QByteArrayView data)
{
    z_stream zs{};
    // 15 window bits + 16: write a gzip header and trailer (RFC 1952).
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return {};
    QByteArray out;
    out.resize(qsizetype(deflateBound(&zs, uLong(data.size()))) + 32);
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
    zs.avail_in = uInt(data.size());
    zs.next_out = reinterpret_cast<Bytef *>(out.data());
    zs.avail_out = uInt(out.size());
    const int rc = deflate(&zs, Z_FINISH);
    out.resize(qsizetype(zs.total_out));
    deflateEnd(&zs);
    return rc == Z_STREAM_END ? out : QByteArray();
}

bool gzipDecompress(QByteArrayView data, qint64 maxBytes, QByteArray *out, QString *error)
{
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 16) != Z_OK) {
        *error = QStringLiteral("gzip: cannot initialise zlib");
        return false;
    }
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
    zs.avail_in = uInt(data.size());
    out->clear();
    char chunk[64 * 1024];
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        zs.next_out = reinterpret_cast<Bytef *>(chunk);
        zs.avail_out = sizeof chunk;
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            *error = QStringLiteral("gzip: corrupt data (%1)").arg(QString::fromLatin1(zs.msg ? zs.msg : "truncated"));
            inflateEnd(&zs);
            return false;
        }
        const qsizetype produced = qsizetype(sizeof chunk - zs.avail_out);
        if (out->size() + produced > maxBytes) {
            *error = QStringLiteral("gzip: decompressed body exceeds %1 bytes").arg(maxBytes);
            inflateEnd(&zs);
            return false;
        }
        out->append(chunk, produced);
        if (rc == Z_OK && zs.avail_in == 0 && produced == 0) {
            *error = QStringLiteral("gzip: truncated data");
            inflateEnd(&zs);
            return false;
        }
    }
    inflateEnd(&zs);
    return true;
}

bool zstdDecompress(QByteArrayView data, qint64 maxBytes, QByteArray *out, QString *error)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    ZSTD_initDStream(ds);
    ZSTD_inBuffer in{data.data(), size_t(data.size()), 0};
    out->clear();
    char chunk[64 * 1024];
    size_t rc = 1;
    while (true) {
        ZSTD_outBuffer ob{chunk, sizeof chunk, 0};
        rc = ZSTD_decompressStream(ds, &ob, &in);
        if (ZSTD_isError(rc)) {
            *error = QStringLiteral("zstd: %1").arg(QString::fromLatin1(ZSTD_getErrorName(rc)));
            ZSTD_freeDStream(ds);
            return false;
        }
        if (out->size() + qint64(ob.pos) > maxBytes) {
            *error = QStringLiteral("zstd: decompressed body exceeds %1 bytes").arg(maxBytes);
            ZSTD_freeDStream(ds);
            return false;
        }
        out->append(chunk, qsizetype(ob.pos));
        if (rc == 0 && in.pos == in.size)
            break;
        if (in.pos == in.size && ob.pos < ob.size) {
            *error = QStringLiteral("zstd: truncated data");
            ZSTD_freeDStream(ds);
            return false;
        }
    }
    ZSTD_freeDStream(ds);
    return true;
}

} // namespace

QByteArray compress(Kind kind, QByteArrayView data)
{
    switch (kind) {
    case Kind::Gzip:
        return gzipCompress(data);
    case Kind::Zstd: {
        QByteArray out;
        out.resize(qsizetype(ZSTD_compressBound(size_t(data.size()))));
        const size_t n = ZSTD_compress(out.data(), size_t(out.size()), data.data(),
                                       size_t(data.size()), 3);
        if (ZSTD_isError(n))
            return {};
        out.resize(qsizetype(n));
        return out;
    }
    case Kind::None:
        break;
    }
    return data.toByteArray();
}

bool decompress(Kind kind, QByteArrayView data, qint64 maxBytes, QByteArray *out, QString *error)
{
    switch (kind) {
    case Kind::Gzip:
        return gzipDecompress(data, maxBytes, out, error);
    case Kind::Zstd:
        return zstdDecompress(data, maxBytes, out, error);
    case Kind::None:
        break;
    }
    *out = data.toByteArray();
    return true;
}

} // namespace Tomato::Compression
