/* aglm-host --list-levels (levels_print.h). */
#include "levels_print.h"

#include "levels.h"
#include "pass_runner.h"

void host_levels_print(host_registry *reg, const char *config_path, FILE *out)
{
    host_levels l;
    host_levels_get(&l);
    int any_missing = 0;
    for (int n = 0; n < HOST_NUM_LEVELS; n++) {
        const host_level *lv = &l.level[n];
        fprintf(out, "O%d  ", n);
        if (lv->count == 0)
            fputs("(no passes)", out);
        for (size_t i = 0; i < lv->count; i++) {
            int loaded = host_pass_loaded(reg, lv->passes[i]);
            any_missing |= !loaded;
            fprintf(out, "%s%s%s", i ? ", " : "", lv->passes[i], loaded ? "" : " [not loaded]");
        }
        if (lv->iterate && lv->count > 0)
            fputs(" (repeated until no pass changes the graph)", out);
        fputc('\n', out);
    }
    if (l.from_config)
        fprintf(out, "levels: [levels] of %s over the built-in table\n",
                config_path ? config_path : "the config");
    else
        fputs("levels: built-in (no [levels] section in the config)\n", out);
    if (any_missing)
        fputs("a pass marked [not loaded] is skipped when its level runs\n", out);
}
