/* Plugin files: the ELF check, the private copy, dlopen, the entry and the descriptor's checks.
 *
 * The header is checked on the same descriptor the copy is read from, so what is checked is what
 * gets mapped even if the file is replaced meanwhile. */
#include "loader.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#if defined(__x86_64__)
#define HOST_ELF_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_ELF_MACHINE EM_AARCH64
#elif defined(__i386__)
#define HOST_ELF_MACHINE EM_386
#elif defined(__arm__)
#define HOST_ELF_MACHINE EM_ARM
#elif defined(__riscv)
#define HOST_ELF_MACHINE EM_RISCV
#elif defined(__powerpc64__)
#define HOST_ELF_MACHINE EM_PPC64
#endif

#define HOST_ELF_CLASS (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_ELF_DATA ELFDATA2LSB
#else
#define HOST_ELF_DATA ELFDATA2MSB
#endif

/* The smallest tables ABI 1.0 defined: a plugin built against 1.0 must fill at least these. */
#define SIZE_UPTO(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))
#define DESC_SIZE_1_0 SIZE_UPTO(aglm_plugin_desc, ops)
#define MAX_REQUIRES 64

int host_plugin_name_valid(const char *name)
{
    if (!name)
        return 0;
    size_t n = strlen(name);
    if (n == 0 || n > 63)
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
            return 0;
    return 1;
}

static const char *elf_type_name(unsigned type)
{
    switch (type) {
    case ET_REL: return "a relocatable object, not linked";
    case ET_EXEC: return "an executable";
    case ET_CORE: return "a core dump";
    default: return "an ELF file of unknown type";
    }
}

/* Checks the ELF header read from fd (positioned at 0). */
static aglm_status check_elf_fd(const char *path, int fd)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return aglm_error(AGLM_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return aglm_error(AGLM_ERR_INVALID, "%s: not an ELF shared object (not a regular file)",
                          path);

    unsigned char h[64];
    size_t got = 0;
    while (got < sizeof h) {
        ssize_t n = read(fd, h + got, sizeof h - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return aglm_error(AGLM_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got < 20 || memcmp(h, ELFMAG, SELFMAG) != 0)
        return aglm_error(AGLM_ERR_INVALID, "%s: not an ELF shared object", path);
    if (h[EI_CLASS] != HOST_ELF_CLASS)
        return aglm_error(AGLM_ERR_INVALID,
                          "%s: not an ELF shared object for this host (%s-bit, the host is %d-bit)",
                          path, h[EI_CLASS] == ELFCLASS32 ? "32" : "64", (int)(sizeof(void *) * 8));
    if (h[EI_DATA] != HOST_ELF_DATA)
        return aglm_error(AGLM_ERR_INVALID,
                          "%s: not an ELF shared object for this host (other byte order)", path);
    uint16_t type, machine;
    memcpy(&type, h + 16,
           sizeof type); /* e_type and e_machine sit at the same offsets in both classes */
    memcpy(&machine, h + 18, sizeof machine);
    if (type != ET_DYN)
        return aglm_error(AGLM_ERR_INVALID, "%s: not an ELF shared object (it is %s)", path,
                          elf_type_name(type));
#ifdef HOST_ELF_MACHINE
    if (machine != HOST_ELF_MACHINE)
        return aglm_error(
            AGLM_ERR_INVALID,
            "%s: ELF shared object for another machine (e_machine %u, the host is %u)", path,
            (unsigned)machine, (unsigned)HOST_ELF_MACHINE);
#endif
    return AGLM_OK;
}

aglm_status host_loader_check_elf(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return aglm_error(errno == ENOENT ? AGLM_ERR_NOT_FOUND : AGLM_ERR_IO, "%s: cannot open: %s",
                          path, strerror(errno));
    aglm_status st = check_elf_fd(path, fd);
    close(fd);
    return st;
}

/* Copies the rest of fd (from offset 0) into a new file `dst`. */
static aglm_status copy_fd(const char *path, int in, const char *dst)
{
    if (lseek(in, 0, SEEK_SET) != 0)
        return aglm_error(AGLM_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    if (out < 0)
        return aglm_error(AGLM_ERR_IO, "%s: cannot create the private copy %s: %s", path, dst,
                          strerror(errno));
    char buf[65536];
    aglm_status st = AGLM_OK;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = aglm_error(AGLM_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                st = aglm_error(AGLM_ERR_IO, "%s: cannot write the private copy %s: %s", path, dst,
                                strerror(errno));
                break;
            }
            done += w;
        }
        if (st != AGLM_OK)
            break;
    }
    if (close(out) != 0 && st == AGLM_OK)
        st = aglm_error(AGLM_ERR_IO, "%s: cannot write the private copy %s: %s", path, dst,
                        strerror(errno));
    if (st != AGLM_OK)
        unlink(dst);
    return st;
}

/* dlerror() names the private copy; the user knows the file by its own path. */
static aglm_status dl_failure(const char *path, const char *copy, const char *what)
{
    const char *msg = dlerror();
    if (!msg)
        msg = "unknown error";
    char out[1024];
    size_t n = 0, clen = strlen(copy);
    out[0] = '\0';
    for (const char *s = msg; *s && n + 1 < sizeof out;) {
        const char *hit = strstr(s, copy);
        size_t take = hit ? (size_t)(hit - s) : strlen(s);
        n += (size_t)snprintf(out + n, sizeof out - n, "%.*s%s", (int)take, s, hit ? path : "");
        if (n >= sizeof out)
            break;
        s += take + (hit ? clen : 0);
    }
    /* the usual cause: the private folder sits on a noexec file system */
    const char *hint = strstr(msg, "failed to map segment")
                           ? " (is the private folder's file system mounted noexec? "
                             "set TMPDIR to another)"
                           : "";
    return aglm_error(AGLM_ERR_INVALID, "%s: %s: %s%s", path, what, out, hint);
}

static aglm_status check_ops(const char *path, const aglm_plugin_desc *d)
{
    const char *kind = aglm_plugin_kind_name(d->kind);
    if (!d->ops)
        return aglm_error(AGLM_ERR_INVALID, "%s: %s '%s' has no operations table", path, kind,
                          d->name);
    size_t have = *(const size_t *)d->ops, need = 0;
    const char *missing = NULL;
    switch (d->kind) {
    case AGLM_KIND_FRONTEND: {
        const aglm_frontend_ops *o = d->ops;
        need = SIZE_UPTO(aglm_frontend_ops, load);
        if (have >= need)
            missing = !o->probe ? "probe" : !o->load ? "load" : NULL;
        break;
    }
    case AGLM_KIND_PASS: {
        const aglm_pass_ops *o = d->ops;
        need = SIZE_UPTO(aglm_pass_ops, run);
        if (have >= need)
            missing = !o->run ? "run" : NULL;
        break;
    }
    case AGLM_KIND_QUANTIZER: {
        const aglm_quantizer_ops *o = d->ops;
        need = SIZE_UPTO(aglm_quantizer_ops, quantize);
        if (have >= need)
            missing = !o->quantize ? "quantize" : NULL;
        break;
    }
    case AGLM_KIND_BACKEND: {
        const aglm_backend_ops *o = d->ops;
        need = SIZE_UPTO(aglm_backend_ops, release);
        if (have >= need)
            missing = !o->query      ? "query"
                      : !o->supports ? "supports"
                      : !o->compile  ? "compile"
                      : !o->run      ? "run"
                      : !o->release  ? "release"
                                     : NULL;
        break;
    }
    }
    if (have < need)
        return aglm_error(
            AGLM_ERR_ABI,
            "%s: %s operations table of '%s' is %zu bytes, ABI %d.0 needs at least %zu", path, kind,
            d->name, have, AGLM_ABI_MAJOR, need);
    if (missing)
        return aglm_error(AGLM_ERR_INVALID, "%s: %s '%s' has no %s operation", path, kind, d->name,
                          missing);
    return AGLM_OK;
}

aglm_status host_loader_validate(const char *path, const aglm_plugin_desc *d)
{
    if (!d)
        return aglm_error(AGLM_ERR_INVALID, "%s: aglm_plugin_entry returned NULL", path);
    if (d->abi_major != AGLM_ABI_MAJOR)
        return aglm_error(AGLM_ERR_ABI, "%s: ABI %u.%u, this host speaks %d.%d", path,
                          (unsigned)d->abi_major, (unsigned)d->abi_minor, AGLM_ABI_MAJOR,
                          AGLM_ABI_MINOR);
    if (d->abi_minor > AGLM_ABI_MINOR)
        return aglm_error(AGLM_ERR_ABI, "%s: ABI %u.%u is newer than this host's %d.%d", path,
                          (unsigned)d->abi_major, (unsigned)d->abi_minor, AGLM_ABI_MAJOR,
                          AGLM_ABI_MINOR);
    if (d->struct_size < DESC_SIZE_1_0)
        return aglm_error(AGLM_ERR_ABI,
                          "%s: plugin descriptor is %zu bytes, ABI %d.0 needs at least %zu", path,
                          d->struct_size, AGLM_ABI_MAJOR, (size_t)DESC_SIZE_1_0);
    if (!d->name)
        return aglm_error(AGLM_ERR_INVALID, "%s: plugin descriptor has no name", path);
    if (!host_plugin_name_valid(d->name))
        return aglm_error(
            AGLM_ERR_INVALID,
            "%s: plugin name '%.80s' is not valid (use [a-z0-9_-], at most 63 characters)", path,
            d->name);
    if (d->kind < AGLM_KIND_FRONTEND || d->kind > AGLM_KIND_BACKEND)
        return aglm_error(AGLM_ERR_INVALID, "%s: plugin '%s' has unknown kind %d", path, d->name,
                          (int)d->kind);
    if (d->requires) {
        size_t i = 0;
        for (; d->requires[i] && i < MAX_REQUIRES; i++)
            if (!host_plugin_name_valid(d->requires[i]))
                return aglm_error(AGLM_ERR_INVALID,
                                  "%s: plugin '%s' requires '%.80s', which is not a plugin name",
                                  path, d->name, d->requires[i]);
        if (d->requires[i])
            return aglm_error(AGLM_ERR_INVALID, "%s: plugin '%s' requires more than %d plugins",
                              path, d->name, MAX_REQUIRES);
    }
    return check_ops(path, d);
}

static int past_end(uint64_t off, uint64_t len, uint64_t size)
{
    return off > size || len > size - off;
}

/* dlopen of a truncated object (a file still being written, a copy cut short) maps pages past
 * its end and dies of SIGBUS: every segment and the header tables must lie inside the file. The
 * private copy is checked, as nothing can change it between this check and dlopen. */
static aglm_status check_complete(const char *path, const char *copy)
{
    int fd = open(copy, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return aglm_error(AGLM_ERR_IO, "%s: cannot read the private copy %s: %s", path, copy,
                          strerror(errno));
    aglm_status st = AGLM_OK;
    struct stat sb;
    ElfW(Ehdr) eh;
    if (fstat(fd, &sb) != 0 || pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh) {
        st = aglm_error(AGLM_ERR_INVALID,
                        "%s: truncated ELF shared object (no complete ELF header)", path);
        goto done;
    }
    uint64_t size = (uint64_t)sb.st_size;
    if (eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phnum == 0 ||
        past_end(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(ElfW(Phdr)), size)) {
        st = aglm_error(AGLM_ERR_INVALID,
                        "%s: truncated or corrupt ELF shared object (program headers outside the "
                        "file's %llu bytes)",
                        path, (unsigned long long)size);
        goto done;
    }
    if (eh.e_shnum && past_end(eh.e_shoff, (uint64_t)eh.e_shnum * eh.e_shentsize, size)) {
        st = aglm_error(AGLM_ERR_INVALID,
                        "%s: truncated ELF shared object (section headers end past the file's "
                        "%llu bytes)",
                        path, (unsigned long long)size);
        goto done;
    }
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        ElfW(Phdr) ph;
        if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph) {
            st = aglm_error(AGLM_ERR_IO, "%s: cannot read program header %u", path, i);
            break;
        }
        if (ph.p_type != PT_NULL && past_end(ph.p_offset, ph.p_filesz, size)) {
            st = aglm_error(AGLM_ERR_INVALID,
                            "%s: truncated ELF shared object (segment %u ends at byte %llu, the "
                            "file has %llu)",
                            path, i, (unsigned long long)(ph.p_offset + ph.p_filesz),
                            (unsigned long long)size);
            break;
        }
    }
done:
    close(fd);
    return st;
}

static const char *stem_of(const char *path, size_t *len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 3 && strcmp(base + n - 3, ".so") == 0)
        n -= 3;
    *len = n;
    return base;
}

aglm_status host_loader_open(const char *path, const char *dir, unsigned seq, host_loaded *out)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return aglm_error(errno == ENOENT ? AGLM_ERR_NOT_FOUND : AGLM_ERR_IO, "%s: cannot open: %s",
                          path, strerror(errno));
    aglm_status st = check_elf_fd(path, fd);
    if (st != AGLM_OK) {
        close(fd);
        return st;
    }
    size_t stem_len;
    const char *stem = stem_of(path, &stem_len);
    char *copy;
    if (asprintf(&copy, "%s/%.*s-%u.so", dir, (int)stem_len, stem, seq) < 0) {
        close(fd);
        return aglm_error(AGLM_ERR_NOMEM, "%s: out of memory", path);
    }
    st = copy_fd(path, fd, copy);
    close(fd);
    if (st != AGLM_OK) {
        free(copy);
        return st;
    }
    void *handle = NULL;
    st = check_complete(path, copy);
    if (st != AGLM_OK)
        goto fail;

    dlerror();
    handle = dlopen(copy, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        st = dl_failure(path, copy, "cannot load");
        goto fail;
    }
    void *sym = dlsym(handle, AGLM_PLUGIN_ENTRY_SYMBOL);
    /* dlsym also searches the copy's dependencies; only the copy's own entry counts */
    Dl_info info;
    struct link_map *map = NULL;
    if (!sym || !dladdr(sym, &info) || dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || !map ||
        info.dli_fname != map->l_name) {
        st = aglm_error(AGLM_ERR_INVALID, "%s: no %s symbol (not an aglm plugin?)", path,
                        AGLM_PLUGIN_ENTRY_SYMBOL);
        goto fail;
    }
    aglm_plugin_entry_fn entry = (aglm_plugin_entry_fn)sym;
    const aglm_plugin_desc *desc = entry();
    st = host_loader_validate(path, desc);
    if (st != AGLM_OK)
        goto fail;
    out->handle = handle;
    out->copy = copy;
    out->desc = desc;
    return AGLM_OK;

fail:
    if (handle)
        dlclose(handle);
    unlink(copy);
    free(copy);
    return st;
}

void host_loader_close(host_loaded *l)
{
    if (!l)
        return;
    if (l->handle && dlclose(l->handle) != 0) {
        const char *e = dlerror();
        host_log(AGLM_LOG_WARN, NULL, "dlclose of %s failed: %s", l->copy ? l->copy : "?",
                 e ? e : "unknown error");
    }
    if (l->copy && unlink(l->copy) != 0 && errno != ENOENT)
        host_log(AGLM_LOG_WARN, NULL, "cannot delete %s: %s", l->copy, strerror(errno));
    free(l->copy);
    memset(l, 0, sizeof *l);
}
