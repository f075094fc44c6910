import { JobTypeDescriptor } from "@conveyor/contracts";
import { z } from "zod";

export const JobTypeList = z.object({ items: z.array(JobTypeDescriptor) });
